// Cross-client check: drives the Batch emulator with the official
// @azure/batch 10.2.0 JS client (tools/node_modules). Usage:
//   node conformance.js <batchUrl> <account> <key>
// Prints one line per check and exits non-zero on the first failure.
"use strict";
const { BatchServiceClient, BatchSharedKeyCredentials } = require("@azure/batch");

const [url, account, key] = process.argv.slice(2);
const client = new BatchServiceClient(new BatchSharedKeyCredentials(account, key), url);

function check(cond, what, detail) {
  if (!cond) {
    console.error("FAIL " + what + (detail === undefined ? "" : ": " + JSON.stringify(detail)));
    process.exit(1);
  }
  console.log("ok   " + what);
}

async function expectError(promise, status, code, what) {
  try {
    await promise;
  } catch (e) {
    check(e.statusCode === status && e.code === code, what, { status: e.statusCode, code: e.code });
    return e;
  }
  check(false, what + " (no error)");
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function listAll(first, next) {
  const out = [];
  let page = await first();
  for (let i = 0; i < 50; i++) {
    out.push(...page);
    if (!page.odatanextLink) break;
    page = await next(page.odatanextLink);
  }
  return out;
}

async function waitFor(what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await sleep(50);
  }
  check(false, "timed out waiting for " + what);
}

async function main() {
  await client.pool.add({
    id: "jspool", vmSize: "STANDARD_A1_v2", targetDedicatedNodes: 1, taskSlotsPerNode: 2,
    virtualMachineConfiguration: {
      imageReference: { publisher: "Canonical", offer: "UbuntuServer", sku: "18.04-LTS", version: "latest" },
      nodeAgentSKUId: "batch.node.ubuntu 18.04",
    },
    startTask: { commandLine: "/bin/sh -c \"echo ready\"", waitForSuccess: true },
  });
  check((await client.pool.exists("jspool")).body === true, "pool.exists true");
  check((await client.pool.exists("nopool")).body === false, "pool.exists false");
  await expectError(client.pool.add({ id: "jspool", vmSize: "x", targetDedicatedNodes: 0,
    virtualMachineConfiguration: { imageReference: { publisher: "a", offer: "b", sku: "c" }, nodeAgentSKUId: "d" } }),
  409, "PoolExists", "duplicate pool → 409 PoolExists");
  await expectError(client.pool.get("nopool"), 404, "PoolNotFound", "missing pool → 404 PoolNotFound");
  await expectError(client.pool.evaluateAutoScale("jspool", "$TargetDedicatedNodes=1;"), 409,
    "OperationInvalidForCurrentState", "evaluateautoscale without autoscale → 409");

  await client.job.add({ id: "jsjob", poolInfo: { poolId: "jspool" } });
  const tasks = [];
  for (let i = 0; i < 25; i++) {
    tasks.push({ id: "task" + i, commandLine: "/bin/sh -c \"echo out-" + i + "\"" });
  }
  tasks.push({ id: "failing", commandLine: "/bin/sh -c \"exit 3\"", constraints: { maxTaskRetryCount: 1 } });
  const added = await client.task.addCollection("jsjob", tasks);
  check(added.value.length === 26 && added.value.every((r) => r.status === "success"), "addCollection all success");
  const again = await client.task.addCollection("jsjob", [{ id: "task0", commandLine: "true" }]);
  check(again.value[0].status === "clienterror" && again.value[0].error.code === "TaskExists", "addCollection duplicate → TaskExists");

  await waitFor("all tasks completed", async () => {
    const counts = await client.job.getTaskCounts("jsjob");
    return counts.taskCounts.completed === 26;
  }, 60000);
  const counts = await client.job.getTaskCounts("jsjob");
  check(counts.taskCounts.succeeded === 25 && counts.taskCounts.failed === 1, "taskCounts succeeded/failed", counts.taskCounts);

  const paged = await listAll(
    () => client.task.list("jsjob", { taskListOptions: { maxResults: 10, select: "id,state,executionInfo" } }),
    (link) => client.task.listNext(link));
  check(paged.length === 26 && paged.every((t) => t.state === "completed"), "task.list paged with maxResults 10", paged.length);
  const failed = await client.task.list("jsjob", { taskListOptions: { filter: "executionInfo/result eq 'Failure'" } });
  check(failed.length === 1 && failed[0].id === "failing" && failed[0].executionInfo.exitCode === 3 &&
    failed[0].executionInfo.retryCount === 1 && failed[0].executionInfo.failureInfo.code === "FailureExitCode",
  "task.list filter on failure", failed.map((t) => t.executionInfo));
  check(failed[0].executionInfo.endTime instanceof Date, "timestamps parse as Date");
  await expectError(client.task.list("jsjob", { taskListOptions: { filter: "state eq" } }), 400,
    "InvalidQueryParameterValue", "bad filter → 400");

  const t0 = await client.task.get("jsjob", "task0");
  check(t0.state === "completed" && t0.executionInfo.result === "success" && t0.nodeInfo.poolId === "jspool", "task.get", t0.executionInfo);
  const file = await client.file.getFromTask("jsjob", "task0", "stdout.txt");
  const chunks = [];
  for await (const c of file.readableStreamBody) chunks.push(c);
  check(Buffer.concat(chunks).toString() === "out-0\n", "file.getFromTask stdout.txt");
  const props = await client.file.getPropertiesFromTask("jsjob", "task0", "stdout.txt");
  check(props.ocpBatchFileIsdirectory === false && props.contentLength === 6, "file.getPropertiesFromTask", props.contentLength);
  const nodes = await client.computeNode.list("jspool");
  check(nodes.length === 1 && nodes[0].startTaskInfo.result === "success" && nodes[0].totalTasksRun === 27, "computeNode.list", nodes[0]);

  const files = await client.file.listFromTask("jsjob", "task1", { fileListFromTaskOptions: { recursive: true } });
  check(files.some((f) => f.name === "stdout.txt" && !f.isDirectory && f.properties.contentLength === 6) &&
    files.some((f) => f.name === "wd" && f.isDirectory), "file.listFromTask recursive", files.map((f) => f.name));
  const sel = await client.pool.get("jspool", { poolGetOptions: { select: "id,state" } });
  check(sel.id === "jspool" && sel.state === "active" && sel.vmSize === undefined, "pool.get with $select", sel);

  // A second job: terminate a running task, disable/enable, terminate the job with a reason.
  await client.job.add({ id: "jsjob2", poolInfo: { poolId: "jspool" } });
  await client.task.add("jsjob2", { id: "long", commandLine: "sleep 30" });
  await waitFor("long running", async () => (await client.task.get("jsjob2", "long")).state === "running", 30000);
  await client.task.terminate("jsjob2", "long");
  const ended = await client.task.get("jsjob2", "long");
  check(ended.state === "completed" && ended.executionInfo.failureInfo.code === "TaskEnded", "task.terminate → TaskEnded", ended.executionInfo);
  await expectError(client.task.terminate("jsjob2", "long"), 409, "TaskCompleted", "terminate completed task → 409");
  await client.task.reactivate("jsjob2", "long");
  await waitFor("long running again", async () => (await client.task.get("jsjob2", "long")).state === "running", 30000);
  await client.job.disable("jsjob2", "requeue");
  await waitFor("job disabled", async () => (await client.job.get("jsjob2")).state === "disabled", 30000);
  const requeued = await client.task.get("jsjob2", "long");
  check(requeued.state === "active" && requeued.executionInfo.requeueCount === 1, "job.disable requeue", requeued.executionInfo);
  await client.job.enable("jsjob2");
  await waitFor("long running after enable", async () => (await client.task.get("jsjob2", "long")).state === "running", 30000);
  await client.job.terminate("jsjob2", { jobTerminateOptions: {}, terminateReason: "byJS" });
  await waitFor("job2 completed", async () => (await client.job.get("jsjob2")).state === "completed", 30000);
  const j2 = await client.job.get("jsjob2");
  check(j2.executionInfo.terminateReason === "byJS", "job.terminate with reason", j2.executionInfo);
  await client.task.deleteMethod("jsjob2", "long");
  await expectError(client.task.get("jsjob2", "long"), 404, "TaskNotFound", "deleted task → 404");
  const jobs = await listAll(() => client.job.list({ jobListOptions: { maxResults: 1 } }), (link) => client.job.listNext(link));
  check(jobs.length === 2, "job.list paged with maxResults 1", jobs.map((j) => j.id));

  // Output files with upload headers (API 2019+ uploadHeaders): what the
  // pipeline sets for Content-Type: audio/mpeg. The job's pool does not
  // exist, so the task stays active and is only read back.
  await client.job.add({ id: "jsfiles", poolInfo: { poolId: "nopool-files" } });
  await client.task.add("jsfiles", { id: "withheaders", commandLine: "true", outputFiles: [{
    filePattern: "output.mp3",
    destination: { container: { containerUrl: "http://127.0.0.1:1/devstoreaccount1/output?sig=x", path: "a/b.mp3",
      uploadHeaders: [{ name: "Content-Type", value: "audio/mpeg" }, { name: "x-ms-meta-source", value: "js" }] } },
    uploadOptions: { uploadCondition: "tasksuccess" } }] });
  const wh = await client.task.get("jsfiles", "withheaders");
  const hdrs = wh.outputFiles && wh.outputFiles[0].destination.container.uploadHeaders;
  check(hdrs && hdrs.length === 2 && hdrs[0].name === "Content-Type" && hdrs[0].value === "audio/mpeg" &&
    hdrs[1].name === "x-ms-meta-source" && hdrs[1].value === "js", "task.get returns outputFiles uploadHeaders", wh.outputFiles);
  await client.job.deleteMethod("jsfiles");

  // Job preparation and release tasks.
  await client.job.add({ id: "jsprep", poolInfo: { poolId: "jspool" },
    jobPreparationTask: { commandLine: "/bin/sh -c \"echo prep > p.txt\"" },
    jobReleaseTask: { commandLine: "/bin/sh -c \"echo release\"" } });
  await client.task.add("jsprep", { id: "usesprep", commandLine: "/bin/sh -c \"cat $AZ_BATCH_JOB_PREP_WORKING_DIR/p.txt\"" });
  await waitFor("usesprep completed", async () => (await client.task.get("jsprep", "usesprep")).state === "completed", 30000);
  const up = await client.task.get("jsprep", "usesprep");
  check(up.executionInfo.result === "success", "task after job preparation", up.executionInfo);
  await client.job.terminate("jsprep");
  await waitFor("jsprep completed", async () => (await client.job.get("jsprep")).state === "completed", 30000);
  const prs = await client.job.listPreparationAndReleaseTaskStatus("jsprep");
  check(prs.length === 1 && prs[0].jobPreparationTaskExecutionInfo.result === "success" &&
    prs[0].jobReleaseTaskExecutionInfo.result === "success" && prs[0].jobReleaseTaskExecutionInfo.endTime instanceof Date,
  "job.listPreparationAndReleaseTaskStatus", prs);
  await client.job.deleteMethod("jsprep");

  // Resize up, then stop the resize.
  await client.pool.resize("jspool", { targetDedicatedNodes: 3, nodeDeallocationOption: "taskcompletion" });
  await waitFor("pool steady with 3 nodes", async () => {
    const p = await client.pool.get("jspool");
    return p.allocationState === "steady" && p.currentDedicatedNodes === 3;
  }, 30000);
  await waitFor("3 idle nodes", async () => (await client.computeNode.list("jspool")).every((n) => n.state === "idle"), 30000);
  const three = await client.computeNode.list("jspool");
  await client.computeNode.reboot("jspool", three[0].id, { nodeRebootOption: "requeue" });
  await waitFor("node rebooted", async () => (await client.computeNode.get("jspool", three[0].id)).state === "idle", 30000);
  await client.pool.removeNodes("jspool", { nodeList: [three[1].id, three[2].id] });
  await waitFor("pool back to 1 node", async () => {
    const p = await client.pool.get("jspool");
    return p.allocationState === "steady" && p.currentDedicatedNodes === 1 && p.targetDedicatedNodes === 1;
  }, 30000);

  await client.job.patch("jsjob", { onAllTasksComplete: "terminatejob" });
  await waitFor("job completed", async () => (await client.job.get("jsjob")).state === "completed", 30000);
  const job = await client.job.get("jsjob");
  check(job.executionInfo.terminateReason === "AllTasksComplete", "job terminateReason AllTasksComplete", job.executionInfo);
  await expectError(client.task.add("jsjob", { id: "late", commandLine: "true" }), 409, "JobCompleted", "add task to completed job → 409");

  await client.pool.enableAutoScale("jspool", { autoScaleFormula: "$TargetDedicatedNodes=0;", autoScaleEvaluationInterval: "PT5M" });
  const run = await client.pool.evaluateAutoScale("jspool", "$TargetDedicatedNodes=1;");
  check(run.results === "$TargetDedicatedNodes=1;$NodeDeallocationOption=requeue", "evaluateAutoScale results", run);
  await expectError(client.pool.evaluateAutoScale("jspool", "$TargetDedicatedNodes=;"), 400,
    "AutoScalingFormulaSyntaxError", "evaluateAutoScale syntax error → 400");
  await expectError(client.pool.resize("jspool", { targetDedicatedNodes: 2 }), 409,
    "OperationInvalidForCurrentState", "resize with autoscale on → 409");
  await client.pool.disableAutoScale("jspool");

  await client.job.deleteMethod("jsjob");
  await client.job.deleteMethod("jsjob2");
  await client.pool.deleteMethod("jspool");
  try {
    await client.pool.patch("jspool", { metadata: [] });
    check(false, "patch of a deleted pool succeeded");
  } catch (e) {
    // Depending on timing the pool is still "deleting" or already gone.
    check((e.statusCode === 409 && e.code === "PoolBeingDeleted") || (e.statusCode === 404 && e.code === "PoolNotFound"),
      "patch deleting pool → 409 PoolBeingDeleted or 404", { status: e.statusCode, code: e.code });
  }
  await waitFor("pool deleted", async () => (await client.pool.exists("jspool")).body === false, 30000);
  console.log("ALL OK");
}

main().catch((e) => {
  console.error("FAIL unexpected error: " + (e && e.stack ? e.stack : e) + " " + JSON.stringify(e && e.body));
  process.exit(1);
});

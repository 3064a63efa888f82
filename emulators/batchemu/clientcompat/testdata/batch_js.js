// Cross-client conformance: drives the Batch emulator with the official
// JavaScript client @azure/batch 10.2.0 (api-version 2022-10-01.16.0).
// Usage: node batch_js.js URL ACCOUNT KEY
// Prints "ok <step>" per step; exits non-zero with a message on the first failure.
"use strict";
const { BatchServiceClient, BatchSharedKeyCredentials } = require("@azure/batch");

const [url, account, key] = process.argv.slice(2);
const client = new BatchServiceClient(new BatchSharedKeyCredentials(account, key), url);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function check(cond, msg) { if (!cond) { throw new Error(msg); } }
const vm = {
  imageReference: { publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server", version: "latest" },
  nodeAgentSKUId: "batch.node.ubuntu 24.04",
};

async function expectCode(promise, code, status) {
  try { await promise; } catch (e) {
    check(e.code === code, `want error code ${code}, got ${e.code} (${e.statusCode})`);
    if (status) { check(e.statusCode === status, `want status ${status}, got ${e.statusCode}`); }
    return;
  }
  throw new Error(`want error ${code}, got success`);
}

async function main() {
  await client.pool.add({ id: "jspool", vmSize: "STANDARD_A1_v2", virtualMachineConfiguration: vm,
    targetDedicatedNodes: 1, taskSlotsPerNode: 2,
    startTask: { commandLine: "/bin/sh -c \"echo started\"", waitForSuccess: true,
      userIdentity: { autoUser: { scope: "pool", elevationLevel: "admin" } } } });
  console.log("ok pool.add");
  await expectCode(client.pool.add({ id: "JSPOOL", vmSize: "STANDARD_A1_v2", virtualMachineConfiguration: vm, targetDedicatedNodes: 0 }), "PoolExists", 409);
  console.log("ok pool.add duplicate -> PoolExists");
  check((await client.pool.exists("jspool")).body === true, "pool.exists(jspool) is not true");
  check((await client.pool.exists("nopool")).body === false, "pool.exists(nopool) is not false");
  console.log("ok pool.exists");

  await client.job.add({ id: "jsjob", poolInfo: { poolId: "jspool" } });
  console.log("ok job.add");
  await expectCode(client.job.get("nojob"), "JobNotFound", 404);
  console.log("ok job.get missing -> JobNotFound");

  const tasks = [];
  for (let i = 0; i < 100; i++) {
    tasks.push({ id: `t${String(i).padStart(3, "0")}`, commandLine: i % 10 === 0 ? "/bin/sh -c \"exit 3\"" : "/bin/true" });
  }
  const added = await client.task.addCollection("jsjob", tasks);
  check(added.value.length === 100 && added.value.every((r) => r.status === "success"), "addCollection did not add 100 tasks");
  const again = await client.task.addCollection("jsjob", tasks.slice(0, 2));
  check(again.value.every((r) => r.status === "clienterror" && r.error.code === "TaskExists"), "re-adding tasks did not report TaskExists");
  console.log("ok task.addCollection (+TaskExists per task)");

  // Wait for completion, then list with filter/select and paging.
  for (let i = 0; ; i++) {
    const counts = await client.job.getTaskCounts("jsjob");
    const c = counts.taskCounts || counts;
    if (c.completed === 100) { break; }
    check(i < 600, `tasks not completed in time: ${JSON.stringify(c)}`);
    await sleep(100);
  }
  console.log("ok job.getTaskCounts");
  let failed = [];
  let page = await client.task.list("jsjob", { taskListOptions: { filter: "executionInfo/result eq 'failure'", select: "id,state,executionInfo", maxResults: 4 } });
  failed = failed.concat(page);
  while (page.odatanextLink) {
    page = await client.task.listNext(page.odatanextLink);
    failed = failed.concat(page);
  }
  check(failed.length === 10, `want 10 failed tasks over pages of 4, got ${failed.length}`);
  check(failed.every((t) => t.executionInfo.exitCode === 3 && t.state === "completed"), "failed tasks lack exitCode 3");
  check(failed[0].commandLine === undefined, "$select did not drop commandLine");
  console.log("ok task.list filter/select/paging");
  const t = await client.task.get("jsjob", "t001");
  check(t.executionInfo.result === "success" && t.nodeInfo && t.nodeInfo.poolId === "jspool", "task.get lacks result/nodeInfo");
  console.log("ok task.get");

  const nodes = await client.computeNode.list("jspool");
  check(nodes.length === 1 && nodes[0].startTaskInfo && nodes[0].startTaskInfo.exitCode === 0, "node list lacks the start task result");
  console.log("ok computeNode.list");

  await client.pool.add({ id: "jsauto", vmSize: "STANDARD_A1_v2", virtualMachineConfiguration: vm,
    enableAutoScale: true, autoScaleFormula: "$TargetDedicatedNodes = 0;", autoScaleEvaluationInterval: "PT5M" });
  const run = await client.pool.evaluateAutoScale("jsauto", "$TargetDedicatedNodes = min(3, 2 + 2); $NodeDeallocationOption = taskcompletion;");
  check(run.results.includes("$TargetDedicatedNodes=3") && run.results.includes("$NodeDeallocationOption=taskcompletion"), `evaluateAutoScale results: ${run.results}`);
  console.log("ok pool.evaluateAutoScale");
  await expectCode(client.pool.evaluateAutoScale("jsauto", "$TargetDedicatedNodes = ;"), "AutoScalingFormulaSyntaxError", 400);
  console.log("ok pool.evaluateAutoScale syntax error");
  await client.pool.disableAutoScale("jsauto");
  await client.pool.resize("jsauto", { targetDedicatedNodes: 0 });
  console.log("ok pool.disableAutoScale + resize");

  await client.job.patch("jsjob", { onAllTasksComplete: "terminatejob" });
  for (let i = 0; ; i++) {
    const job = await client.job.get("jsjob");
    if (job.state === "completed") { break; }
    check(i < 300, `job not completed after patch: ${job.state}`);
    await sleep(100);
  }
  console.log("ok job.patch onAllTasksComplete=terminatejob");
  await client.job.deleteMethod("jsjob");
  await client.pool.deleteMethod("jspool");
  await client.pool.deleteMethod("jsauto");
  console.log("ok delete");

  const bad = new BatchServiceClient(new BatchSharedKeyCredentials(account, Buffer.from("wrong key").toString("base64")), url);
  await expectCode(bad.job.list().then((r) => r), "AuthenticationFailed", 403);
  console.log("ok wrong key -> AuthenticationFailed");
}

main().catch((e) => { console.error("FAIL:", e && (e.stack || e)); process.exit(1); });

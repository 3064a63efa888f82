"""Cross-client conformance: drives the Batch emulator with the official
Python client azure-batch 13.0.1 (Debian python3-azure; api-version
2022-10-01.16.0). Usage: /usr/bin/python3 batch_py.py URL ACCOUNT KEY
Prints "ok <step>" per step; exits non-zero on the first failure."""
import base64
import sys
import time

import azure.batch.models as m
from azure.batch import BatchServiceClient
from azure.batch.batch_auth import SharedKeyCredentials

url, account, key = sys.argv[1:4]
client = BatchServiceClient(SharedKeyCredentials(account, key), batch_url=url)
vm = m.VirtualMachineConfiguration(
    image_reference=m.ImageReference(publisher="Canonical", offer="ubuntu-24_04-lts", sku="server", version="latest"),
    node_agent_sku_id="batch.node.ubuntu 24.04")


def expect_code(fn, code, status):
    try:
        fn()
    except m.BatchErrorException as e:
        assert e.error.code == code, "want %s, got %s" % (code, e.error.code)
        assert e.response.status_code == status, "want status %d, got %d" % (status, e.response.status_code)
        return
    raise AssertionError("want error %s, got success" % code)


client.pool.add(m.PoolAddParameter(
    id="pypool", vm_size="STANDARD_A1_v2", virtual_machine_configuration=vm,
    target_dedicated_nodes=0, target_low_priority_nodes=2,
    start_task=m.StartTask(command_line='/bin/sh -c "echo start"', wait_for_success=True,
                           user_identity=m.UserIdentity(auto_user=m.AutoUserSpecification(
                               scope="pool", elevation_level="admin")))))
print("ok pool.add")
expect_code(lambda: client.pool.add(m.PoolAddParameter(id="pypool", vm_size="x", virtual_machine_configuration=vm,
                                                       target_dedicated_nodes=0)), "PoolExists", 409)
print("ok pool.add duplicate -> PoolExists")
assert client.pool.exists("pypool") is True
assert client.pool.exists("none") is False
print("ok pool.exists")

client.job.add(m.JobAddParameter(id="pyjob", pool_info=m.PoolInformation(pool_id="pypool")))
print("ok job.add")
expect_code(lambda: client.job.get("nojob"), "JobNotFound", 404)
expect_code(lambda: client.task.add("pyjob", m.TaskAddParameter(id="bad id!", command_line="/bin/true")),
            "InvalidPropertyValue", 400)
print("ok errors")

tasks = [m.TaskAddParameter(id="t%04d" % i, command_line="/bin/true") for i in range(250)]
tasks.append(m.TaskAddParameter(id="retry", command_line='/bin/sh -c "exit 7"',
                                constraints=m.TaskConstraints(max_task_retry_count=2)))
tasks.append(m.TaskAddParameter(id="slow", command_line="/bin/sleep 30",
                                constraints=m.TaskConstraints(max_wall_clock_time="PT1S")))
res = client.task.add_collection("pyjob", tasks)  # the SDK chunks by 100 itself
assert all(r.status == "success" for r in res.value), [r.error for r in res.value if r.status != "success"]
print("ok task.add_collection (252 tasks)")

deadline = time.time() + 120
while True:
    counts = client.job.get_task_counts("pyjob")
    c = getattr(counts, "task_counts", counts)
    if c.completed == len(tasks):
        break
    assert time.time() < deadline, "tasks not completed in time: %s" % c
    time.sleep(0.1)
print("ok job.get_task_counts")

all_tasks = list(client.task.list("pyjob", task_list_options=m.TaskListOptions(select="id,state", max_results=100)))
assert len(all_tasks) == len(tasks), len(all_tasks)
assert all(t.state == m.TaskState.completed for t in all_tasks)
print("ok task.list paging (3 pages)")
failed = list(client.task.list("pyjob", task_list_options=m.TaskListOptions(
    filter="executionInfo/result eq 'failure'")))
assert sorted(t.id for t in failed) == ["retry", "slow"], [t.id for t in failed]
retry = client.task.get("pyjob", "retry")
assert retry.execution_info.exit_code == 7 and retry.execution_info.retry_count == 2, retry.execution_info
slow = client.task.get("pyjob", "slow")
assert slow.execution_info.failure_info is not None, slow.execution_info
print("ok retries and wall-clock limit")
started = list(client.task.list("pyjob", task_list_options=m.TaskListOptions(filter="startswith(id,'t000')")))
assert len(started) == 10, len(started)
print("ok startswith filter")

nodes = list(client.compute_node.list("pypool"))
assert len(nodes) == 2 and all(not n.is_dedicated for n in nodes), [(n.id, n.is_dedicated) for n in nodes]
print("ok compute_node.list (low-priority nodes)")

client.job.terminate("pyjob")
deadline = time.time() + 60
while client.job.get("pyjob").state != m.JobState.completed:
    assert time.time() < deadline, "job not completed after terminate"
    time.sleep(0.1)
print("ok job.terminate")
expect_code(lambda: client.task.add("pyjob", m.TaskAddParameter(id="late", command_line="/bin/true")), "JobCompleted", 409)
print("ok add to completed job -> JobCompleted")
client.job.delete("pyjob")
client.pool.delete("pypool")
print("ok delete")

bad = BatchServiceClient(SharedKeyCredentials(account, base64.b64encode(b"wrong key").decode()), batch_url=url)
expect_code(lambda: list(bad.job.list()), "AuthenticationFailed", 403)
print("ok wrong key -> AuthenticationFailed")

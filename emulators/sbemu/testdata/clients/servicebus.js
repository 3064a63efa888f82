// Cross-client conformance script for the sbemu emulator, run by
// clients_test.go with @azure/service-bus (rhea AMQP stack).
// Environment: SB_CONN (connection string), SB_QUEUE (a queue name),
// SB_MISSING (comma-separated names of a queue and a topic that do not exist).
// Prints "OK" and exits 0 on success; prints the failure and exits 1.
"use strict";
const { ServiceBusClient } = require("@azure/service-bus");

function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
}

async function main() {
  const queue = process.env.SB_QUEUE;
  const client = new ServiceBusClient(process.env.SB_CONN);
  try {
    const sender = client.createSender(queue);
    const receiver = client.createReceiver(queue); // peek-lock
    const wait = { maxWaitTimeInMs: 5000 };

    // Single and batched sends, peek-lock receive and complete.
    await sender.sendMessages({ body: "hello", messageId: "m1", applicationProperties: { k: "v", n: 3 } });
    const batch = await sender.createMessageBatch();
    for (let i = 0; i < 5; i++) check(batch.tryAddMessage({ body: "b" + i }), "batch add " + i);
    await sender.sendMessages(batch);
    let got = [];
    for (let i = 0; i < 10 && got.length < 6; i++) {
      got = got.concat(await receiver.receiveMessages(6 - got.length, wait));
    }
    check(got.length === 6, "received 6 messages, got " + got.length);
    check(got[0].body === "hello" && got[0].messageId === "m1", "first message " + JSON.stringify(got[0].body));
    check(got[0].applicationProperties.k === "v" && got[0].applicationProperties.n === 3, "app properties");
    check(got[0].deliveryCount === 0 || got[0].deliveryCount === 1, "delivery count " + got[0].deliveryCount);
    for (let i = 1; i < 6; i++) check(got[i].body === "b" + (i - 1), "batch body " + i);
    for (const m of got) await receiver.completeMessage(m);

    // Abandon redelivers with a higher delivery count; renew lock; defer.
    await sender.sendMessages({ body: "again" });
    let [m] = await receiver.receiveMessages(1, wait);
    check(m && m.body === "again", "abandon candidate");
    const firstCount = m.deliveryCount;
    await receiver.abandonMessage(m, { why: "retry" });
    [m] = await receiver.receiveMessages(1, wait);
    check(m && m.deliveryCount === firstCount + 1, "delivery count after abandon " + (m && m.deliveryCount));
    check(m.applicationProperties.why === "retry", "properties to modify on abandon");
    const before = m.lockedUntilUtc.getTime();
    await new Promise((r) => setTimeout(r, 20));
    const renewed = await receiver.renewMessageLock(m);
    check(renewed.getTime() > before, "renewed lock");
    await receiver.deferMessage(m);
    let missing;
    try {
      await receiver.receiveDeferredMessages([m.sequenceNumber.add(1000)]);
    } catch (e) {
      missing = e;
    }
    // Told apart from other 404s by the response's errorCondition.
    check(missing && missing.code === "MessageNotFound",
      "receive of an unknown deferred message: " + (missing ? missing.code + " " + missing.message : "success"));
    const [d] = await receiver.receiveDeferredMessages([m.sequenceNumber]);
    check(d && d.body === "again", "deferred message");
    await receiver.completeMessage(d);

    // Dead-letter and receive from the dead-letter queue.
    await sender.sendMessages({ body: "poison" });
    [m] = await receiver.receiveMessages(1, wait);
    check(m && m.body === "poison", "poison message");
    await receiver.deadLetterMessage(m, { deadLetterReason: "bad", deadLetterErrorDescription: "very bad" });
    const dlq = client.createReceiver(queue, { subQueueType: "deadLetter" });
    const [dm] = await dlq.receiveMessages(1, wait);
    check(dm && dm.body === "poison" && dm.deadLetterReason === "bad" && dm.deadLetterErrorDescription === "very bad",
      "dead-lettered message " + JSON.stringify(dm && [dm.body, dm.deadLetterReason]));
    await dlq.completeMessage(dm);
    await dlq.close();

    // Schedule, cancel, peek, and delivery once due (receive-and-delete).
    const due = new Date(Date.now() + 1500);
    const [keep] = await sender.scheduleMessages({ body: "scheduled" }, due);
    const [drop] = await sender.scheduleMessages({ body: "cancelled" }, due);
    await sender.cancelScheduledMessages(drop);
    const peeked = await receiver.peekMessages(10);
    check(peeked.length === 1 && peeked[0].sequenceNumber.equals(keep) && peeked[0].state === "scheduled",
      "peek scheduled " + peeked.length);
    const rd = client.createReceiver(queue, { receiveMode: "receiveAndDelete" });
    let s = [];
    for (let i = 0; i < 10 && s.length === 0; i++) s = await rd.receiveMessages(1, wait);
    check(s.length === 1 && s[0].body === "scheduled", "scheduled message delivered");
    check(Date.now() >= due.getTime() - 50, "scheduled message delivered before its time");
    await rd.close();

    await receiver.close();
    await sender.close();
    await checkNotFound(process.env.SB_MISSING.split(","));
    console.log("OK");
  } finally {
    await client.close().catch((err) => console.error("close:", err.message));
  }
}

// checkNotFound sends to entities that do not exist. The client must report
// MessagingEntityNotFound, which core-amqp derives from the service's wording
// of the amqp:not-found description ("The messaging entity '...' could not be
// found"), not from the condition (that alone maps to
// ServiceCommunicationProblem).
async function checkNotFound(names) {
  const client = new ServiceBusClient(process.env.SB_CONN, { retryOptions: { maxRetries: 0 } });
  try {
    for (const name of names) {
      const sender = client.createSender(name);
      let err;
      try {
        await sender.sendMessages({ body: "lost" });
      } catch (e) {
        err = e;
      }
      check(err && err.code === "MessagingEntityNotFound",
        "send to missing entity " + name + ": got " + (err ? err.code + " " + err.message : "success"));
      await sender.close();
    }
  } finally {
    await client.close();
  }
}

main().catch((err) => {
  console.error("FAILED:", err && err.stack ? err.stack : err);
  process.exit(1);
});

"""Cross-client conformance script for the sbemu emulator, run by
clients_test.go with azure-servicebus (uamqp AMQP stack).

Environment: SB_CONN (connection string), SB_QUEUE (a queue name),
SB_MISSING (comma-separated names of a queue and a topic that do not exist), SB_PORT (the emulator's AMQPS port), SB_CA (PEM file of the emulator's
self-signed CA). Prints "OK" and exits 0 on success.

azure-servicebus 7.8 predates the connection string's UseDevelopmentEmulator
(plain TCP) support, so the emulator is reached over TLS and the script
points the SDK's fixed AMQPS port 5671 at SB_PORT; the AMQP exchange itself
is the SDK's, unchanged.
"""
import datetime
import logging
import os
import sys
import time

from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusSubQueue, ServiceBusReceiveMode
from azure.servicebus.exceptions import MessageNotFoundError, ServiceBusAuthenticationError
from azure.servicebus._common import _configuration

_orig_init = _configuration.Configuration.__init__


def _patched_init(self, **kwargs):
    _orig_init(self, **kwargs)
    self.connection_port = int(os.environ["SB_PORT"])


_configuration.Configuration.__init__ = _patched_init


def check(cond, what):
    if not cond:
        raise AssertionError("check failed: " + what)


def text(msg):
    return b"".join(msg.body).decode() if not isinstance(msg.body, (str, bytes)) else str(msg)


def prop(msg, key):
    props = msg.application_properties or {}
    v = props.get(key, props.get(key.encode()))
    return v.decode() if isinstance(v, bytes) else v


def receive(receiver, n):
    got = []
    for _ in range(10):
        if len(got) >= n:
            break
        got += receiver.receive_messages(max_message_count=n - len(got), max_wait_time=5)
    check(len(got) == n, "received %d of %d messages" % (len(got), n))
    return got


def main():
    if os.environ.get("SB_DEBUG"):
        logging.basicConfig(level=logging.DEBUG)
    queue = os.environ["SB_QUEUE"]
    client = ServiceBusClient.from_connection_string(os.environ["SB_CONN"], connection_verify=os.environ["SB_CA"])
    with client:
        sender = client.get_queue_sender(queue)
        receiver = client.get_queue_receiver(queue)
        with sender, receiver:
            # Single and batched sends, peek-lock receive and complete.
            sender.send_messages(ServiceBusMessage("hello", message_id="m1", application_properties={"k": "v"}))
            batch = sender.create_message_batch()
            for i in range(5):
                batch.add_message(ServiceBusMessage("b%d" % i))
            sender.send_messages(batch)
            got = receive(receiver, 6)
            check(text(got[0]) == "hello" and got[0].message_id == "m1", "first message %r" % text(got[0]))
            check(prop(got[0], "k") == "v", "application property %r" % got[0].application_properties)
            check(got[0].sequence_number > 0 and got[0].locked_until_utc is not None, "broker annotations")
            for i in range(1, 6):
                check(text(got[i]) == "b%d" % (i - 1), "batch body %d" % i)
            for m in got:
                receiver.complete_message(m)

            # Abandon, renew lock, defer and receive deferred.
            sender.send_messages(ServiceBusMessage("again"))
            m = receive(receiver, 1)[0]
            first = m.delivery_count
            receiver.abandon_message(m)
            m = receive(receiver, 1)[0]
            check(m.delivery_count == first + 1, "delivery count after abandon %r" % m.delivery_count)
            before = m.locked_until_utc
            time.sleep(0.02)
            receiver.renew_message_lock(m)
            check(m.locked_until_utc > before, "renewed lock")
            receiver.defer_message(m)
            try:
                receiver.receive_deferred_messages([m.sequence_number + 1000])
                raise AssertionError("receive of an unknown deferred message succeeded")
            except MessageNotFoundError:
                pass  # told apart from other 404s by the response's errorCondition
            d = receiver.receive_deferred_messages([m.sequence_number])
            check(len(d) == 1 and text(d[0]) == "again", "deferred message")
            receiver.complete_message(d[0])

            # Dead-letter and receive from the dead-letter queue.
            sender.send_messages(ServiceBusMessage("poison"))
            m = receive(receiver, 1)[0]
            receiver.dead_letter_message(m, reason="bad", error_description="very bad")
            with client.get_queue_receiver(queue, sub_queue=ServiceBusSubQueue.DEAD_LETTER) as dlq:
                dm = receive(dlq, 1)[0]
                check(text(dm) == "poison" and dm.dead_letter_reason == "bad"
                      and dm.dead_letter_error_description == "very bad",
                      "dead-lettered message %r %r" % (text(dm), dm.dead_letter_reason))
                dlq.complete_message(dm)

            # Schedule, cancel, peek, and delivery once due.
            due = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2)
            keep = sender.schedule_messages(ServiceBusMessage("scheduled"), due)
            drop = sender.schedule_messages(ServiceBusMessage("cancelled"), due)
            sender.cancel_scheduled_messages(drop)
            peeked = receiver.peek_messages(max_message_count=10)
            check(len(peeked) == 1 and peeked[0].sequence_number == keep[0], "peek scheduled %d" % len(peeked))
        with client.get_queue_receiver(queue, receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE) as rd:
            s = receive(rd, 1)
            check(text(s[0]) == "scheduled", "scheduled message delivered")
            check(datetime.datetime.now(datetime.timezone.utc) >= due - datetime.timedelta(milliseconds=50),
                  "scheduled message delivered before its time")
    check_not_found(os.environ["SB_MISSING"].split(","))
    print("OK")


def check_not_found(names):
    """Sending to an entity that does not exist fails as not found.

    The service refuses the $cbs token for a missing entity with status 404
    and "The messaging entity '...' could not be found."; this SDK version
    (uamqp) raises that as ServiceBusAuthenticationError carrying the status
    and the service's sentence (Azure/azure-service-bus#304 shows the same
    from the real service), not as MessagingEntityNotFoundError.
    """
    client = ServiceBusClient.from_connection_string(
        os.environ["SB_CONN"], connection_verify=os.environ["SB_CA"], retry_total=0)
    with client:
        for name in names:
            try:
                with client.get_queue_sender(name) as sender:
                    sender.send_messages(ServiceBusMessage("lost"))
            except ServiceBusAuthenticationError as err:
                check("Status code: 404" in str(err) and "The messaging entity '" in str(err)
                      and "could not be found" in str(err), "send to missing entity %s: %r" % (name, err))
                continue
            except Exception as err:  # the wrong error type is the failure reported
                raise AssertionError("send to missing entity %s: got %r" % (name, err))
            raise AssertionError("send to missing entity %s: got success" % name)


if __name__ == "__main__":
    try:
        main()
    except Exception as err:  # report any failure to the Go test
        print("FAILED:", repr(err), file=sys.stderr)
        sys.exit(1)

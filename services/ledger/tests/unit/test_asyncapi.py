"""The ledger's AsyncAPI document describes every event type it records (issue 13): a channel per
routing key on the ledger's exchange, its payload schema generated from the payload type, an
example that matches it, and the delivery guarantees."""
import jsonschema

from services.ledger import asyncapi
from services.ledger.domain import events
from shared.topology import Topology


def test_every_recorded_event_type_has_a_channel_a_schema_and_a_matching_example():
    document = asyncapi.document(Topology("p"))
    recorded = {value for name, value in vars(events).items() if name.isupper() and isinstance(value, str)
                and value.endswith(".v1")}
    assert recorded and set(document["channels"]) == recorded
    assert document["asyncapi"].startswith("2.") and document["info"]["version"] == asyncapi.VERSION
    for event_type, channel in document["channels"].items():
        assert channel["bindings"]["amqp"]["exchange"]["name"] == "p.zeroclear.ledger"
        message = document["components"]["messages"][event_type]
        schema = {**message["payload"], "components": document["components"]}
        for example in message["examples"]:
            jsonschema.Draft202012Validator(schema).validate(example["payload"])
        wrong = {**message["examples"][0]["payload"], "type": "intake.something_else.v1"}
        assert not jsonschema.Draft202012Validator(schema).is_valid(wrong)
    for promise in ("At least once", "de-duplicate by `seq`", "/v1/events", "log order"):
        assert promise in document["info"]["description"]

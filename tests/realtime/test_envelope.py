"""The envelope: what servers send and what clients may send."""

from __future__ import annotations

import json

import pytest

from app.realtime.envelope import ClientMessage, EnvelopeError, decode_client, encode


def refusal(text: str) -> EnvelopeError:
    with pytest.raises(EnvelopeError) as caught:
        decode_client(text)
    return caught.value


class TestEncode:
    def test_with_seq(self) -> None:
        assert json.loads(encode("poll.results", {"n": 3}, seq=7)) == {
            "type": "poll.results",
            "seq": 7,
            "data": {"n": 3},
        }

    def test_without_seq_has_no_seq_key(self) -> None:
        assert json.loads(encode("answer.ack", {"id": "a1"})) == {"type": "answer.ack", "data": {"id": "a1"}}

    def test_keeps_non_ascii_text(self) -> None:
        assert json.loads(encode("x", {"label": "Ça va, Zoë?"}))["data"]["label"] == "Ça va, Zoë?"


class TestDecodeClient:
    def test_round_trip(self) -> None:
        data = {"question_id": "q1", "value": {"choices": ["o1"]}}
        text = json.dumps({"type": "answer", "id": "a1b2", "data": data})
        assert decode_client(text) == ClientMessage(type="answer", id="a1b2", data=data)

    def test_encoded_message_decodes(self) -> None:
        message = decode_client(encode("answer.ack", {"id": "x"}))
        assert (message.type, message.id, message.data) == ("answer.ack", None, {"id": "x"})

    def test_malformed_json(self) -> None:
        assert refusal('{"type": "answer"').code == "malformed_json"

    def test_not_an_object(self) -> None:
        assert refusal('["answer"]').code == "malformed_message"

    def test_missing_type(self) -> None:
        assert refusal('{"data": {}}').code == "malformed_message"

    @pytest.mark.parametrize("type_", ["Answer", "answer..x", "1answer", "", "answer-x", 5])
    def test_bad_type(self, type_: object) -> None:
        assert refusal(json.dumps({"type": type_, "data": {}})).code == "malformed_message"

    def test_id_too_long(self) -> None:
        error = refusal(json.dumps({"type": "answer", "id": "x" * 101, "data": {}}))
        assert error.code == "malformed_message"

    def test_id_of_100_characters_is_fine(self) -> None:
        assert decode_client(json.dumps({"type": "answer", "id": "x" * 100})).id == "x" * 100

    def test_empty_id(self) -> None:
        assert refusal(json.dumps({"type": "answer", "id": ""})).code == "malformed_message"

    def test_id_that_is_not_a_string(self) -> None:
        assert refusal(json.dumps({"type": "answer", "id": 12})).code == "malformed_message"

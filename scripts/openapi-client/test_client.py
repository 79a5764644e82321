"""A client generated from furrow's /openapi.json, used as an integrator would: log in, create a Leaf user,
attach CLAAS credentials through the typed create body, read them back and read their events.

Run by scripts/openapi-client/run.sh with the generated package `furrow_client` on PYTHONPATH, against a
furrow-server started with --demo (the CLAAS simulator answers the validation on 127.0.0.1).
Exits non-zero on the first failed assertion.
"""

import os
import time

from furrow_client import AuthenticatedClient, Client
from furrow_client.api.auth import auth_authenticate
from furrow_client.api.credentials import (
    claas_credentials_create,
    claas_credentials_events,
    claas_credentials_get,
)
from furrow_client.api.users import users_create
from furrow_client.models import (
    AuthAuthenticateBody,
    ClaasCredentialsInput,
    LeafUser,
    Problem,
    TokenResponse,
    UsersCreateBody,
)

BASE = os.environ["FURROW_BASE"]
SECRET = "client-secret-from-the-generated-client"


def main() -> None:
    anonymous = Client(base_url=BASE, raise_on_unexpected_status=True)
    token = auth_authenticate.sync(
        client=anonymous,
        body=AuthAuthenticateBody(
            username=os.environ["FURROW_TEST_OWNER"], password=os.environ["FURROW_TEST_PASSWORD"]
        ),
    )
    assert isinstance(token, TokenResponse), token
    client = AuthenticatedClient(base_url=BASE, token=token.id_token, raise_on_unexpected_status=True)

    # A wrong password is a typed problem, not an exception.
    refused = auth_authenticate.sync(
        client=anonymous,
        body=AuthAuthenticateBody(username=os.environ["FURROW_TEST_OWNER"], password="wrong"),
    )
    assert isinstance(refused, Problem) and refused.status == 401, refused

    user = users_create.sync(
        client=client,
        body=UsersCreateBody(name="Generated Client Grower", email="client@example.com", external_id="crm-7"),
    )
    assert isinstance(user, LeafUser), user
    assert user.name == "Generated Client Grower" and user.external_id == "crm-7", user

    body = ClaasCredentialsInput(client_key="claas-client-key", client_secret=SECRET, refresh_token=SECRET + "-refresh")
    created = claas_credentials_create.sync(user.id, client=client, body=body)
    assert not isinstance(created, Problem), created
    stored = created.to_dict()
    assert stored["status"] == "PROCESSING", stored
    assert stored["clientKey"] == "claas-client-key", stored
    assert SECRET not in str(stored), "the secret came back unmasked"

    # The same body again: 409 credentialsAlreadyExist, as a typed problem.
    again = claas_credentials_create.sync(user.id, client=client, body=body)
    assert isinstance(again, Problem) and again.status == 409, again
    assert again.error_key == "credentialsAlreadyExist", again

    fetched = claas_credentials_get.sync(user.id, client=client)
    assert not isinstance(fetched, Problem), fetched
    assert fetched.to_dict()["id"] == stored["id"], fetched

    # The worker validates the credential against the CLAAS simulator and records the exchange: wait for it
    # (a condition with a deadline, not a fixed pause).
    deadline = time.monotonic() + 120
    while True:
        events = claas_credentials_events.sync(user.id, client=client, page=0, size=20, sort="createdDate,asc")
        assert isinstance(events, list), events
        if events:
            break
        assert time.monotonic() < deadline, "no credential event within 120 s"
        time.sleep(0.2)
    first = events[0].to_dict()
    for key in ("id", "createdDate", "method", "url", "statusCode"):
        assert key in first, first
    assert "127.0.0.1" in first["url"], first
    assert SECRET not in str([e.to_dict() for e in events]), "an event shows the secret"
    print(f"generated client: user {user.id}, CLAAS credential {stored['id']}, {len(events)} event(s)")


if __name__ == "__main__":
    main()

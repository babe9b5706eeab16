"""`farm token`: print a locally signed Firebase-shaped ID token for a user.

    farm token --user alice [--admin] [--email alice@example.com] [--ttl 3600]

The token is signed with the key under FARM_DATA_DIR/identity/ and verifies with the local
backend's verifier (firebase-admin's checks, local certificates). Use it as
`Authorization: Bearer $(farm token --user alice)`.
"""

from __future__ import annotations

import argparse

from shared.errors import SettingsError
from shared.settings import Settings

NAME = "token"


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `token` subcommand to the farm command line."""
    parser = subparsers.add_parser(
        NAME,
        help="print a local ID token for a user",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--user", required=True, help="the user id (token `sub`/`uid`)")
    parser.add_argument("--admin", action="store_true", help="add the `admin` custom claim")
    parser.add_argument("--email", default=None, help="the token's email claim")
    parser.add_argument(
        "--ttl", type=int, default=None, help="lifetime in seconds (default 3600, like Firebase)"
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace, settings: Settings | None = None) -> int:
    """Mint the token described by `args` and print it on stdout."""
    settings = settings or Settings.from_env()
    if settings.backend != "local":
        raise SettingsError(
            "farm token mints tokens for the local backend only; with FARM_BACKEND=gcp, "
            "sign in through Firebase Auth to get an ID token"
        )
    # Imported here so `farm --help` does not load the crypto libraries.
    from shared.identity import LOCAL_PROJECT
    from shared.identity.local_keys import load_or_create_signing_key
    from shared.identity.minting import DEFAULT_TTL_S, mint_id_token

    key = load_or_create_signing_key(settings.data_dir)
    ttl_s = DEFAULT_TTL_S if args.ttl is None else args.ttl
    token = mint_id_token(
        key, args.user, project=LOCAL_PROJECT, email=args.email, admin=args.admin, ttl_s=ttl_s
    )
    print(token)
    return 0

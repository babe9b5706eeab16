import argparse

import pytest

from farm import cli
from farm.commands import token as token_command
from shared.adapters.local.local_identity import LocalIdentityVerifier
from shared.errors import SettingsError
from shared.settings import Settings


def test_registers_a_token_subcommand_that_prints_a_verifiable_token(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="farm")
    token_command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["token", "--user", "dave", "--email", "d@example.com"])
    assert args.func(args, Settings(backend="local", data_dir=tmp_path)) == 0
    verifier = LocalIdentityVerifier(tmp_path)
    try:
        principal = verifier.verify(capsys.readouterr().out.strip())
    finally:
        verifier.close()
    assert (principal.uid, principal.email, principal.admin) == ("dave", "d@example.com", False)


def test_refuses_to_mint_for_the_gcp_backend(tmp_path):
    args = argparse.Namespace(user="dave", admin=False, email=None, ttl=None)
    with pytest.raises(SettingsError, match="Firebase Auth"):
        token_command.run(args, Settings(backend="gcp", gcp_project="p"))


def test_the_farm_cli_reports_bad_input_on_stderr_with_exit_code_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FARM_DATA_DIR", str(tmp_path))
    assert cli.main(["token", "--user", "dave", "--ttl", "0"]) == 2
    assert "farm token: token lifetime must be positive" in capsys.readouterr().err


def test_the_farm_cli_lists_the_token_command():
    assert "token" in cli.build_parser().format_help()

from sora_cli.cli import run

run()

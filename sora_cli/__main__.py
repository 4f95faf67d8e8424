from sora_cli.entry import console

console()

from sora_cli.entry import main

main()

"""Platform adapters: translate core replies to Telegram, Discord and the console."""

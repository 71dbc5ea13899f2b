"""The demonstration foundation (fictional, around a few real trials)."""

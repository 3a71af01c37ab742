"""`harmone attach URL`: the TUI of a running `harmone serve` (systems, sparklines, events,
deliveries, policy editing), fed by polling its /v1 API."""

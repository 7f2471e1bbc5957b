"""The thin web layer: routes and sockets become driver sources; the `rxgen` command."""

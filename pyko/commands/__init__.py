"""What each command does, given a resolved Plan: build (and publish the built-in base), index
create, rebase, Kubernetes YAML. The cli parses flags and calls these; they call the supply
chain, the toolchains, the transport and the image model below them."""

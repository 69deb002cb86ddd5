"""What every stage shares: lake layout, partitions, commit, locks, manifests, contracts, the Stage base, the runner."""

"""Proof that no acknowledged write was lost: the ledger of what agents sent and the app
acknowledged (:mod:`~sim.reconcile.ledger`), what the app stored (:mod:`~sim.reconcile.stored`)
and the comparison (:mod:`~sim.reconcile.check`)."""

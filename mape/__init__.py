"""The MAPE-K loop: knowledge store, policies, monitor, analyse, plan, execute."""

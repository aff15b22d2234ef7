"""Wire clients the adapters use to reach brokers (imported only by the adapters that need them)."""

"""One test per case x subprotocol x encoding (x target). The engine has
already run them (batched); each test reports its execution's verdict:
pass passes, fail and error fail with the failing step and the wire log,
skip is a skip with the engine's reason."""


def test_case(execution, mbws):
    mbws.check(execution)

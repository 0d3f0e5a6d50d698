"""A suite of many tests on one swfd: each test's reset makes swfd log a few
lines, so this fails (hangs) if the fixture stops reading swfd's log."""
import pytest


@pytest.mark.parametrize("n", range(150))
def test_each_test_starts_empty(swf, n):
    assert swf.list_domains(registrationStatus="REGISTERED")["domainInfos"] == []
    swf.register_domain(name=f"d{n}", workflowExecutionRetentionPeriodInDays="1")

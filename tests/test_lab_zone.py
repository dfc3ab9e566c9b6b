"""The lab's zone data as a pure function of the fault set."""

from __future__ import annotations

import dns.name
import dns.rdatatype
import pytest

from launchready.lab.faults import LAB_DOMAIN, faults
from launchready.lab.zone import ZoneData, lab_zone, lab_zones, txt_value

KEY = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + "A" * 350 + "IDAQAB"


def zone(*faults: str, address: str = "127.0.0.1") -> ZoneData:
    return lab_zone(faults, address=address, dkim_public_key_b64=KEY)


def test_clean_zone_has_every_record_a_launch_needs() -> None:
    z = zone()
    assert z.origin == LAB_DOMAIN
    for host in ("@", "www", "app", "admin", "api", "mail"):
        assert z.values(host, "A") == ("127.0.0.1",), host
    assert z.values("@", "MX") == (f"10 mail.{LAB_DOMAIN}.",)
    assert [t for t in z.txt_strings("@") if t.startswith("v=spf1")] == ["v=spf1 ip4:127.0.0.1 -all"]
    assert z.txt_strings("_dmarc") == (f"v=DMARC1; p=reject; rua=mailto:dmarc@{LAB_DOMAIN}",)
    assert z.txt_strings("lab._domainkey") == (f"v=DKIM1; k=rsa; p={KEY}",)
    assert z.values("@", "CAA") == ('0 issue "launchready-lab.test"',)
    assert len(z.values("@", "SOA")) == 1
    assert len(z.values("@", "NS")) == 2


def test_long_dkim_value_is_split_into_255_byte_strings() -> None:
    value = txt_value("x" * 600)
    assert value.count('"') == 6  # three quoted character-strings
    z = zone()
    rendered = z.values("lab._domainkey", "TXT")[0]
    assert all(len(part) <= 255 for part in rendered.split('"')[1::2])


@pytest.mark.parametrize(
    ("fault", "name", "rdtype"),
    [("apex-no-address", "@", "A"), ("dmarc-missing", "_dmarc", "TXT")],
)
def test_faults_remove_their_record(fault: str, name: str, rdtype: str) -> None:
    assert zone().values(name, rdtype)
    assert zone(fault).values(name, rdtype) == ()


def test_apex_no_address_keeps_www() -> None:
    assert zone("apex-no-address").values("www", "A") == ("127.0.0.1",)


def test_spf_faults() -> None:
    assert not [t for t in zone("spf-missing").txt_strings("@") if t.startswith("v=spf1")]
    assert [t for t in zone("spf-plus-all").txt_strings("@") if t.startswith("v=spf1")] == ["v=spf1 ip4:127.0.0.1 +all"]


def test_ipv6_bind_uses_aaaa_and_ip6() -> None:
    z = zone(address="::1")
    assert z.values("app", "AAAA") == ("::1",)
    assert z.values("app", "A") == ()
    assert [t for t in z.txt_strings("@") if t.startswith("v=spf1")] == ["v=spf1 ip6:::1 -all"]


def test_every_fault_combination_builds_a_valid_dnspython_zone() -> None:
    for fault in faults():
        for data in lab_zones([fault.name], dkim_public_key_b64=KEY):
            built = data.to_zone()
            origin = dns.name.from_text(data.origin)
            assert built.get_rdataset(origin, dns.rdatatype.SOA) is not None


def test_zone_function_is_pure() -> None:
    assert zone("no-hsts") == zone("no-hsts")
    # Faults that are not about DNS leave the zone unchanged.
    assert zone("no-hsts", "cert-expired") == zone()

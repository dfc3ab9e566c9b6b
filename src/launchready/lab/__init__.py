"""The lab: a fragile marketplace MVP on loopback (DNS, HTTPS, HTTP, SMTP, app) with fault switches."""

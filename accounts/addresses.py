"""Which mailbox an address reaches: the one owner of that fact.

`EmailValidator` accepts spellings that Django's SMTP backend sends to one
envelope address: a quoted local part (`"carol"@example.com`) and a domain that
IDNA folds (fullwidth letters, a soft hyphen, a zero-width space, a ligature).
It also accepts letters that only match ASCII case-insensitively (the Kelvin
sign, `ı`, `ſ`), which PostgreSQL's lower() folds but no mail can carry. So the
ceiling counts `delivery_address`, and member forms keep only `plain_address`es.
It also accepts domain literals (`x@[127.0.0.1]`: mail to a host of the sender's
choosing) and `localhost`, and Python's IDNA 2003 codec decodes punycode to what
IDNA 2008 forbids (`xn--zz-zzz.com` is `z⦌z.com`): member forms refuse those too.
They refuse names that reach the relay's own machine or network, never a public
mailbox: under localhost (RFC 6761), .local (mDNS), .internal, .home.arpa.
"""

from email.errors import HeaderParseError
from email.headerregistry import Address, AddressHeader
from encodings import idna

import idna as idna2008


def delivery_address(address: str) -> str | None:
    """The envelope address Django's SMTP backend sends `address` to (its
    `prep_address`: the local part unquoted, the domain IDNA-encoded), or
    None when it cannot be sent at all (a non-ASCII local part)."""
    try:
        parsed = AddressHeader.value_parser(address.strip())
        (mailbox,) = parsed.all_mailboxes
        if parsed.all_defects or not mailbox.local_part.isascii():
            return None
        domain = mailbox.domain.encode("idna").decode("ascii").lower()
        return str(Address(username=mailbox.local_part, domain=domain))
    except (HeaderParseError, UnicodeError, ValueError, IndexError, TypeError):
        return None


# Why `judged_address` refuses an address (the forms' error codes).
NO_DOMAIN = "no_domain"  # a domain literal or a local name: no public domain name
BAD_DOMAIN = "bad_domain"  # not a domain name valid under IDNA 2008
NOT_PLAIN = "not_plain"  # another spelling of a mailbox, or a letter mail can't carry


# Names, and the names under them, that the relay resolves to its own machine
# or network: loopback (RFC 6761 §6.3, and the /etc/hosts alias
# localhost.localdomain), mDNS (RFC 6762), a home network (RFC 8375), ICANN's
# private-use TLD. The reserved test names (.test, .example, .invalid: RFC 2606)
# resolve nowhere, so mail to them reaches no host: kept, the suite uses them.
LOCAL_NAMES = ("localhost", "localdomain", "local", "internal", "home.arpa")
# What IDNA reads as a dot besides "." (`evil。localhost` is mailed to evil.localhost).
OTHER_DOTS = ("\u3002", "\uff0e", "\uff61")


def is_local(domain: str) -> bool:
    """Whether the lower-cased `domain` names no public host: a local name (or
    one under it), or one label only (`intranet`: the resolver completes it
    locally). The trailing dot of a fully qualified name aside."""
    name = domain.rstrip(".")
    return "." not in name or any(
        name == local or name.endswith(f".{local}") for local in LOCAL_NAMES
    )


def plain_address(address: str) -> str | None:
    """`address` as stored, when it is typed in plain characters at a domain
    name; else None (`judged_address` says why)."""
    return judged_address(address)[0]


def judged_address(address: str) -> tuple[str | None, str]:
    """(`address` as stored, "") when a member's account may hold it, else
    (None, one of NO_DOMAIN, BAD_DOMAIN, NOT_PLAIN).

    Plain: an unquoted ASCII local part, and a domain whose every label is
    ASCII or IDNA's own form of itself (case aside), so münchen.de passes and
    ｅxample.com does not. At a domain name: not a literal, not local (`is_local`),
    and valid IDNA 2008 (the `idna` package: permitted letters, hyphens,
    lengths), so `xn--zz-zzz.com` (`z⦌z.com`) and `ab--cd.com` are refused.
    The domain comes back lower-cased, each label in its Unicode form
    (`xn--mnchen-3ya.de` is stored as münchen.de), so the unique index sees
    one spelling per mailbox.
    """
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not local.isascii() or '"' in local or "\\" in local:
        return None, NOT_PLAIN
    domain = domain.lower()
    if any(dot in domain for dot in OTHER_DOTS):
        return None, NOT_PLAIN
    if domain.startswith("[") or is_local(domain):
        return None, NO_DOMAIN
    labels = []
    for label in domain.split("."):
        try:
            shown = idna.ToUnicode(idna.ToASCII(label))
        except UnicodeError:
            return None, BAD_DOMAIN if label.isascii() else NOT_PLAIN
        if label not in (shown, shown.encode("idna").decode("ascii")):
            return None, NOT_PLAIN
        labels.append(shown)
    try:
        idna2008.encode(".".join(labels))
    except idna2008.IDNAError:
        return None, BAD_DOMAIN
    plain = f"{local}@{'.'.join(labels)}"
    return (plain, "") if delivery_address(plain) is not None else (None, NOT_PLAIN)


def mailbox(address: str) -> str | None:
    """The mailbox `address` reaches, in one spelling for comparing: its
    `delivery_address` once the domain's trailing dots are dropped (`example.com.`
    is the fully qualified spelling of example.com; the mail parser refuses it),
    case-folded. None when it reaches none."""
    local, at, domain = address.strip().rpartition("@")
    delivered = delivery_address(f"{local}{at}{domain.rstrip('.')}") if at else None
    return delivered.casefold() if delivered is not None else None


def same_mailbox(first: str, second: str) -> bool:
    """Whether two addresses reach one mailbox (the local part's case aside)."""
    one = mailbox(first)
    return one is not None and one == mailbox(second)

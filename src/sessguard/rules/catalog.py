"""The rules sessguard reports, with their documentation.

Each rule's doc has fixed headings (What it does, Why is this bad?, Example, Use instead,
Framework notes, Fix safety, References). It is printed by `sessguard explain`, rendered to
`docs/rules/<id>.md`, and carried as SARIF `help`; its Example and Use instead blocks are
run by the tests, so the doc cannot claim what the scanner does not do.
"""

from __future__ import annotations

import re

import msgspec

from sessguard.model import RULE_ID, SUPPRESSION_RULE_ID, Level

HOMEPAGE = "https://github.com/sessguard/sessguard"
DOCS = f"{HOMEPAGE}/blob/main/docs/rules"


class Rule(msgspec.Struct, frozen=True):
    id: str
    name: str  # PascalCase, for SARIF
    short: str
    full: str
    doc: str  # Markdown
    level: Level  # default severity
    precision: str
    security_severity: str  # SARIF: a number in (0, 10], written as a string
    tags: tuple[str, ...]

    @property
    def help_uri(self) -> str:
        return f"{DOCS}/{self.id}.md"

    def code_block(self, heading: str) -> str:
        """The first ```python block under a heading of the doc."""
        section = self.doc.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
        match = re.search(r"```python\n(.*?)```", section, re.S)
        return match.group(1) if match else ""


SESSION_FIXATION_DOC = """\
# python-session-fixation

## What it does

Finds authentication events — a login, a sign-up that logs the new account in, an OAuth or
SSO callback, a second factor, a privilege change — that happen on a session whose
identifier was not regenerated on some path through the request. It follows the login
through your own helpers and modules, and reports it in the view (or other entry point)
that reaches it, at the statement through which it is reached.

## Why is this bad?

Session fixation (CWE-384): an attacker obtains a valid session id (or invents one, where
the store accepts unknown ids), plants it in the victim's browser, and waits. When the
victim logs in on that session, the same id now names an authenticated session that the
attacker also holds. Giving the browser a new session id at every authentication event
makes the planted id worthless.

On a store that keeps the whole session in a signed cookie there is no id to fix; what
remains is data planted before login (a CSRF token, say) surviving into the authenticated
session. Findings there are low severity; on server-side stores they are high.

## Example

```python
from flask import Flask, redirect, request
from flask_login import login_user

from models import User

app = Flask(__name__)


@app.post("/login")
def login():
    user = User.authenticate(request.form["email"], request.form["password"])
    if user is None:
        return "no", 401
    login_user(user)  # the session the request arrived with is kept
    return redirect("/")
```

## Use instead

```python
from flask import Flask, redirect, request, session
from flask_login import login_user

from models import User

app = Flask(__name__)


@app.post("/login")
def login():
    user = User.authenticate(request.form["email"], request.form["password"])
    if user is None:
        return "no", 401
    session.clear()  # nothing planted before the login survives it
    login_user(user)
    return redirect("/")
```

## Framework notes

- **Django**: `django.contrib.auth.login()` cycles the key itself; hand-written identity
  writes need `request.session.cycle_key()` (or `flush()` before them).
  `request.session.clear()` keeps the key.
- **Flask-Session 0.7+**: `app.session_interface.regenerate(session)` after the login
  writes; it does nothing right after `session.clear()`. `session.clear()` keeps the id.
- **Flask-KVSession**: `session.regenerate()`.
- **Flask, Quart, Starlette cookie sessions**: `session.clear()` before the login.
- **aiohttp-session**: `session = await new_session(request)` before writing the identity.
- **Beaker**: `session.regenerate_id()`; **CherryPy**: `cherrypy.session.regenerate()`;
  **Pyramid**: `request.session.invalidate()` before `remember()`; **web2py**:
  `session.renew()`.
- **web.py, sanic-session, Litestar server-side sessions, starlette-session**: no call
  issues a new id; the finding names the manual workaround.

What counts, in real code: test code is never reported (`--include-tests` to see it);
each root is judged with its own application's store and identity policy, so a plain
cookie app beside a Redis one, or two tutorials with different policies, get their own
verdicts; pending-state keys (`pending_login`, `tf_user_id`, django-allauth's
`account_login`) and writes of `None` or an empty value are not logins; keys held in class
attributes, `__init__` defaults, joins, configuration defaults and helper parameters are
resolved; a value is an identity when it is the principal whose credential was checked
(`session["id"] = account.id` after `account.check_password(pw)`) or what an identity
provider verified; sessions are followed through wrapper objects and helpers that return
them; literal arguments rule out the callee's branches they decide.

False friends — calls that look like a regeneration and are not one on that store (Django
`clear()`, Flask-Session `clear()`, `logout_user()`, `set_expiry()`, `rotate_token()` ...) —
are named in the finding with the call chain that reaches them.

## Fix safety

Regenerating the id is safe to add to a login: the browser receives the new id with the
response. Clearing a cookie session drops everything it held, including what the app
meant to keep (a shopping cart): carry over only named keys, never the whole session (that
would restore what an attacker planted).

`sessguard fix` writes the regeneration for the framework and store (`--diff` previews
it): before or after the reported statement, with the import it needs, on the syntax tree
so that nothing else in the file changes. A fix that empties the session (`clear()`,
`invalidate()`, aiohttp's `new_session`) carries over exactly the keys the handler reads
after it, on any path and in the helpers it calls: it reads them first and writes them
back after (`carried = {key: session[key] for key in ("next",) if key in session}`). When
such a read cannot be named (a dynamic key, `items()`, iterating the session, the session
handed to code the scan cannot follow), it writes nothing and says which read stopped it.
A fix that keeps the data (`cycle_key()`, `regenerate`) needs none of this; Flask-Session's
`regenerate` is written only where the dependency pins allow 0.7 or later. It keeps a fix
only if a new scan shows the finding gone and nothing new; where the store has no
regeneration call, or the statement cannot take one beside it, it writes nothing and says
why.

## References

- CWE-384: Session Fixation — https://cwe.mitre.org/data/definitions/384.html
- OWASP Session Management Cheat Sheet, "Renew the Session ID After Any Privilege Level
  Change" — https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html
"""

SUPPRESSION_DOC = """\
# sessguard-suppression

## What it does

Reports suppression comments that do not do what they appear to: a bare
`# sessguard: ignore` (it suppresses nothing until it names a rule), and a
`# sessguard: ignore[python-session-fixation]` that no finding matches.

## Why is this bad?

A suppression that names no rule would hide any future finding on its line; an unused one
hides the next real finding on that statement. Both make a security review trust a line
that nobody checked.

## Example

```python
from flask_login import login_user


def login(user):
    login_user(user)  # sessguard: ignore
```

## Use instead

```python
from flask_login import login_user


def login(user):
    login_user(user)  # sessguard: ignore[python-session-fixation] -- tokens are rotated by the proxy
```

## Framework notes

Not framework specific. Turn the unused-suppression report off with
`report-unused-suppressions = false`; `# nosec python-session-fixation` is honoured and
never reported as unused (Bandit reads it too).

## Fix safety

Removing an unused suppression changes no behaviour.

## References

- Inline suppressions in the sessguard README.
"""

RULES: tuple[Rule, ...] = (
    Rule(
        id=RULE_ID,
        name="PythonSessionFixation",
        short="Login on a session whose id was not regenerated (session fixation)",
        full=(
            "An authentication event (login, sign-up auto-login, OAuth callback, second "
            "factor, privilege change) is reached on a path where the session identifier "
            "is not regenerated, so an id planted before the login names the authenticated "
            "session (CWE-384)."
        ),
        doc=SESSION_FIXATION_DOC,
        level=Level.HIGH,
        precision="high",
        security_severity="8.1",
        tags=("security", "external/cwe/cwe-384"),
    ),
    Rule(
        id=SUPPRESSION_RULE_ID,
        name="SessguardSuppression",
        short="Suppression comment that names no rule, or matches no finding",
        full=(
            "A `# sessguard: ignore` comment without a rule id suppresses nothing; one "
            "that matches no finding would hide the next real finding on its statement."
        ),
        doc=SUPPRESSION_DOC,
        level=Level.LOW,
        precision="very-high",
        security_severity="2.0",
        tags=("maintainability",),
    ),
)

BY_ID = {rule.id: rule for rule in RULES}


def rendered_doc(rule: Rule) -> str:
    """`docs/rules/<id>.md`: the rule doc as the command prints it."""
    return f"<!-- generated by `sessguard explain {rule.id}`; a test fails when it is stale -->\n" + rule.doc

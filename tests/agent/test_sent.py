"""output_not_seen for a mail the goal asks to send (agent/sent.py): an inbox full of the
word "mail" is no evidence that one went out. The wordings, addresses and pages here are
used nowhere else (not the curve's, not the probes')."""

from __future__ import annotations

import pytest

from agent.evidence import broken_rule
from agent.sent import asks_to_send_mail
from agent.state import ToolStep

READ_ONLY = frozenset({"browser_read", "file_read", "browser_goto"})
GOAL = (
    "A supplier wrote about invoice 88. Send them a short reply confirming payment on 2026-12-01."
)


def read_only(tool: str) -> bool:
    return tool in READ_ONLY


def page(url: str, *elements: str, text: str = "") -> str:
    lines = [f"[{i}] {e}" for i, e in enumerate(elements, 1)]
    return (
        f"URL: {url}\nTitle: Webmail\nInteractive elements:\n"
        + "\n".join(lines)
        + f"\nPage text:\n{text}"
    )


INBOX = page(
    "http://127.0.0.1:7/?_task=mail&_mbox=INBOX",
    'button "Compose"', 'link "Inbox"', 'link "Sent"',
    text="Inbox 1 message  Invoice 88 question  Sent  Trash",
)  # fmt: skip
COMPOSE = page(
    "http://127.0.0.1:7/?_task=mail&_action=compose", 'textbox "To"', 'textbox "Body"',
    'button "Send"',
)  # fmt: skip


def step(tool: str, output: str, error: str | None = None, **arguments: object) -> ToolStep:
    return ToolStep(call_id=tool, tool=tool, arguments=arguments, output=output, error=error)


def login_only() -> list[ToolStep]:
    return [
        step(
            "browser_goto", page("http://127.0.0.1:7/", 'button "Login"'), url="http://127.0.0.1:7/"
        ),
        step("browser_click", f'[acted on [1] button "Login"]\n{INBOX}', element_id=1),
    ]


def test_an_inbox_after_a_login_is_no_mail_sent() -> None:
    broken = broken_rule(GOAL, login_only(), read_only=read_only)
    assert broken is not None and broken.rule == "output_not_seen"
    assert "no step shows one sent" in broken.evidence


def test_a_send_on_the_compose_form_that_leaves_it_is() -> None:
    attempt = [
        *login_only(),
        step("browser_click", f'[acted on [1] button "Compose"]\n{COMPOSE}', element_id=1),
        step("browser_type", f'[acted on [2] textbox "Body"]\n{COMPOSE}', element_id=2, text="ok"),
        step("browser_click", f'[acted on [3] button "Send"]\n{INBOX}', element_id=3),
    ]
    assert broken_rule(GOAL, attempt, read_only=read_only) is None
    # a Send that left the form where it was (an error on the page) shows nothing sent
    stuck = [
        *attempt[:-1],
        step("browser_click", f'[acted on [3] button "Send"]\n{COMPOSE}', element_id=3),
    ]
    assert broken_rule(GOAL, stuck, read_only=read_only) is not None


@pytest.mark.parametrize(
    ("output", "error", "sent"),
    [
        ("$ python <code>\n[exit code 0, 0.4 s]\n(no output)", None, True),
        (
            "$ python <code>\n[exit code 1, 0.4 s]\n[stderr]\nConnectionRefusedError",
            "exit code 1",
            False,
        ),
    ],
)
def test_a_send_from_code_counts_when_it_ran_cleanly(
    output: str, error: str | None, sent: bool
) -> None:
    code = "import smtplib\ns = smtplib.SMTP('127.0.0.1', 2525)\ns.sendmail('me@firm.test', ['ap@supplier.test'], 'paid')"
    attempt = [*login_only(), step("python_run", output, error, code=code)]
    assert (broken_rule(GOAL, attempt, read_only=read_only) is None) is sent


@pytest.mark.parametrize(
    ("code", "sent"),
    [
        (
            "import smtplib\nfrom email.message import EmailMessage\nm = EmailMessage()\nm['To'] = 'ap@supplier.test'",
            False,
        ),
        ("import smtplib\nwith smtplib.SMTP('127.0.0.1', 2525) as s:\n    s.send_message(m)", True),
        ("printf 'Subject: paid' | /usr/sbin/sendmail ap@supplier.test", True),
        ("curl --url smtp://127.0.0.1:2525 --mail-rcpt ap@supplier.test -T mail.txt", True),
    ],
)
def test_code_counts_as_a_send_only_when_it_sends(code: str, sent: bool) -> None:
    """Code that imports smtplib and builds the message, and never sends it, sent nothing."""
    tool = "python_run" if code.startswith("import") else "shell_run"
    ran = step(tool, "$ python <code>\n[exit code 0, 0.1 s]\n(no output)", code=code)
    attempt = [*login_only(), ran]
    assert (broken_rule(GOAL, attempt, read_only=read_only) is None) is sent


def test_a_confirmation_after_the_last_change_counts() -> None:
    done = page("http://127.0.0.1:7/?_task=mail", 'button "Compose"', text="Your message was sent.")
    attempt = [*login_only(), step("browser_press", done, keys="Control+Enter")]
    assert broken_rule(GOAL, attempt, read_only=read_only) is None


@pytest.mark.parametrize(
    ("goal", "asks"),
    [
        ("Compute the weekly hours in log.csv and mail ops@firm.test the total.", True),
        ("Let the vendor know by email that the order shipped.", True),
        ("Deal with the parking request in your inbox, then answer their mail with the bay number.", True),
        ("Which colleague emailed you about the printer? Say their name.", False),
        ("Write `hours.csv` with the total per person.\n\nApps you can use:\n- Mail: webmail "
         "http://127.0.0.1:7 (user `kim`); SMTP 127.0.0.1:25", False),
    ],
)  # fmt: skip
def test_which_goals_ask_for_a_mail(goal: str, asks: bool) -> None:
    assert asks_to_send_mail(goal) is asks


# reply_unread: a reply goes to someone the run learnt of (the curve's model mailed the
# preamble's example address without opening the mailbox); here a vendor desk, other names
DESK = (
    "You are Sam Ortiz (`sam`, sam@vendors.test). Staff are reached as <login>@vendors.test "
    "(e.g. dora@vendors.test).\n\nA quote request is waiting in your mailbox. Reply to its "
    "sender with the quote number Q-311."
)
REPLY_GOAL = "Reply to the sender of the quote request with the quote number Q-311."
SMTP = "import smtplib; s = smtplib.SMTP('127.0.0.1', 2525); s.sendmail('sam@vendors.test', '{to}', 'Subject: Q-311')"


def _sent_from_code(to: str) -> ToolStep:
    return step("python_run", "$ python <code>\n[exit code 0, 0.1 s]", code=SMTP.format(to=to))


@pytest.mark.parametrize(
    ("read", "to", "unread"),
    [
        # never opened the mailbox: the example address of the preamble
        ([], "dora@vendors.test", True),
        # an address made up, with an inbox that shows someone else
        (
            [INBOX.replace("Invoice 88 question", "Quote request - Kenji Sato")],
            "lee@vendors.test",
            True,
        ),
        # the sender's address, shown by the message
        (
            [page("http://127.0.0.1:7/?_uid=4", text="From: Kenji Sato <kenji@vendors.test>")],
            "kenji@vendors.test",
            False,
        ),
        # the address made from the name the inbox shows, by the company's convention
        (
            [INBOX.replace("Invoice 88 question", "Quote request - Kenji Sato")],
            "kenji@vendors.test",
            False,
        ),
    ],
)
def test_a_reply_goes_to_someone_the_run_read_of(read: list[str], to: str, unread: bool) -> None:
    steps = [step("browser_read", o) for o in read] + [_sent_from_code(to)]
    broken = broken_rule(REPLY_GOAL, steps, read_only=read_only, task=DESK, history=steps)
    if unread:
        assert broken is not None and broken.rule == "reply_unread" and to in broken.evidence
        assert ("only as an example" in broken.evidence) == (to == "dora@vendors.test")
    else:
        assert broken is None


def test_an_address_the_task_gives_or_no_reply_asked_is_not_judged_so() -> None:
    told = DESK.replace("Reply to its sender", "Reply to its sender, lena@vendors.test,")
    steps = [_sent_from_code("lena@vendors.test")]
    assert broken_rule(REPLY_GOAL, steps, read_only=read_only, task=told, history=steps) is None
    # a mail that is not a reply may go to an address made by the convention
    goal = "Email dora the quote number Q-311."
    steps = [_sent_from_code("dora@vendors.test")]
    assert broken_rule(goal, steps, read_only=read_only, task=DESK, history=steps) is None


def test_a_reply_from_the_message_page_types_no_address() -> None:
    opened = page("http://127.0.0.1:7/?_uid=4", 'button "Reply"', text="From: Kenji Sato")
    steps = [
        *login_only(),
        step("browser_click", f'[acted on [1] button "Reply"]\n{COMPOSE}', element_id=1),
        step("browser_type", '[acted on [2] textbox "Body"]', element_id=2, text="Quote Q-311"),
        step("browser_click", f'[acted on [3] button "Send"]\n{INBOX}', element_id=3),
    ]
    steps.insert(2, step("browser_read", opened))
    broken = broken_rule(REPLY_GOAL, steps, read_only=read_only, task=DESK, history=steps)
    assert broken is None

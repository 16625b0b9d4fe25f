"""The console in a real browser (Debian's Chromium, driven by Playwright).

Run by tests/tests/e2e/browser.rs against a herald-local it has filled with data:
    python3 console_test.py BASE_URL DATA_JSON SCREENSHOT_DIR
Each step asserts what a person would see; a failure exits non-zero with the step named.
"""
import json
import os
import sys

from playwright.sync_api import expect, sync_playwright

BASE, DATA, SHOTS = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
os.makedirs(SHOTS, exist_ok=True)
expect.set_options(timeout=15_000)


def shot(page, name):
    page.screenshot(path=os.path.join(SHOTS, name + ".png"), full_page=True)


def sign_in(page, email, first=True):
    page.goto(BASE + "/console")
    page.wait_for_url("**/console/login**")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DATA["temporary_password"] if first else DATA["password"])
    page.get_by_role("button", name="Sign in").click()
    if first:
        page.get_by_label("New password", exact=True).fill(DATA["password"])
        page.get_by_label("New password again").fill(DATA["password"])
        page.get_by_role("button", name="Set password and sign in").click()


def confirm(page, yes):
    dialog = page.locator("dialog#confirm")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=yes).click()


def owner_steps(page):
    sign_in(page, DATA["owner_email"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Home")
    expect(page.get_by_role("img", name="Messages per day")).to_be_visible()
    shot(page, "dashboard")

    # Find a message (typed as a person would) and open its timeline.
    page.get_by_role("link", name="Messages", exact=True).click()
    page.get_by_label("Recipient").fill(DATA["message_to_typed"])
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=DATA["message_to"]).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Message to " + DATA["message_to"])
    expect(page.locator("ol.timeline")).to_contain_text("Status: delivered")
    shot(page, "message")

    # Pause and resume sending (the kill switch), confirmed first.
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("button", name="Pause sending").click()
    confirm(page, "Pause sending")
    expect(page.get_by_role("button", name="Resume sending")).to_be_visible()
    page.get_by_role("button", name="Resume sending").click()
    expect(page.get_by_role("status").filter(has_text="Sending resumed")).to_be_visible()

    # Retry a dead letter.
    page.get_by_role("link", name="Dead letters").click()
    expect(page.get_by_role("cell", name=DATA["dead_letter_error"]).first).to_be_visible()
    page.get_by_role("button", name="Retry").first.click()
    confirm(page, "Retry")
    expect(page.get_by_role("status").filter(has_text="sent again")).to_be_visible()

    # Play a voicemail.
    page.get_by_role("link", name="Calls").click()
    page.get_by_role("link", name=DATA["caller"]).first.click()
    audio = page.get_by_label("Voicemail from " + DATA["caller"])
    expect(audio).to_be_attached()
    played = audio.evaluate("""a => new Promise(done => {
        a.addEventListener('error', () => done('error ' + (a.error && a.error.code)));
        a.addEventListener('timeupdate', () => a.currentTime > 0 && done('playing'));
        a.play().catch(e => done('refused ' + e));
    })""")
    assert played == "playing", f"the voicemail did not play: {played}"
    expect(page.get_by_text(DATA["transcription"])).to_be_visible()
    shot(page, "call")

    # Buy a number by area code (confirmed first: it costs money every month).
    page.get_by_role("link", name="Numbers").click()
    page.get_by_label("Area code").fill("415")
    page.get_by_role("button", name="Buy a number").click()
    confirm(page, "Buy")
    expect(page.get_by_role("status").filter(has_text="Bought +1415")).to_be_visible()
    expect(page.get_by_role("table", name="Your numbers")).to_contain_text("+1415555")
    if os.environ.get("HERALD_ALL_SHOTS") == "1":
        for path in ["numbers", "keys", "users", "dnc", "dead-letters", "send", "settings", "calls", "messages"]:
            page.goto(BASE + "/console/" + path)
            page.get_by_role("heading", level=1).wait_for()
            page.wait_for_load_state("networkidle")
            shot(page, "page-" + path)


def member_steps(page):
    sign_in(page, DATA["member_email"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Home")
    expect(page.get_by_role("link", name="Keys")).to_have_count(0)
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_text("Only an owner of this account can change settings.")).to_be_visible()
    expect(page.get_by_role("button", name="Pause sending")).to_be_disabled()
    # Even past the page: the API refuses the member.
    answer = page.evaluate("""() => fetch('/v1/tenant/pause', {method: 'POST', headers: {'content-type': 'application/json'},
        body: JSON.stringify({reason: 'member tries'})}).then(r => r.json().then(b => [r.status, b.error.code]))""")
    assert answer == [403, "OWNER_ONLY"], answer


def operator_steps(page):
    sign_in(page, DATA["operator_email"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Operations")
    expect(page.get_by_role("table", name="Queues")).to_be_visible()
    shot(page, "ops")
    page.get_by_role("link", name="Tenants").click()
    page.get_by_label("Name or id").fill(DATA["tenant_name"].split()[0].lower())
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("cell", name=DATA["tenant_name"])).to_be_visible()
    shot(page, "ops-tenants")


def phone_steps(page):
    sign_in(page, DATA["owner_email"], first=False)
    expect(page.get_by_role("heading", level=1)).to_have_text("Home")
    for path in ["/console", "/console/messages", "/console/settings", "/console/calls"]:
        page.goto(BASE + path)
        page.get_by_role("heading", level=1).wait_for()
        page.wait_for_load_state("networkidle")
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, f"{path} is {wide}px wide on a 390px phone"
    expect(page.get_by_text("Menu")).to_be_visible()
    page.goto(BASE + "/console/messages")
    expect(page.get_by_role("table", name="Messages")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the message list fits the phone"
    shot(page, "phone-messages")


def main():
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("HERALD_CHROMIUM", "/usr/bin/chromium"),
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        steps = [(owner_steps, {"width": 1280, "height": 900}), (member_steps, {"width": 1280, "height": 900}),
                 (operator_steps, {"width": 1280, "height": 900}), (phone_steps, {"width": 390, "height": 844})]
        for step, viewport in steps:
            context = browser.new_context(viewport=viewport)
            page = context.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            try:
                step(page)
            except Exception:
                shot(page, "failed-" + step.__name__)
                print(f"step {step.__name__} failed at {page.url}", file=sys.stderr)
                raise
            assert not errors, f"{step.__name__}: script errors {errors}"
            print(f"ok: {step.__name__}")
            context.close()
        browser.close()


main()

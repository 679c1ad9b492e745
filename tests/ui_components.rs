//! Component logic of the webmail UI, in headless Chromium: the reader's sanitizer (the browser's
//! own parser walked from wasm), the list's virtual window and selection, the keyboard table, and
//! the composer's draft building and address completion.

#![cfg(target_arch = "wasm32")]

use petrel::mail::{Address, BodyPart, Identity};
use petrel::ui::address_field::{complete, suggestions};
use petrel::ui::compose::build_draft;
use petrel::ui::message_list::{visible_range, ROW_HEIGHT};
use petrel::ui::sanitize::{html_to_text, sanitize_mail_html, SanitizeOptions};
use petrel::ui::selection::Selection;
use petrel::ui::shortcuts::{command_for, Command, HELP};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn no_cid(_: &str) -> Option<String> {
    None
}

fn clean(html: &str, allow_remote: bool) -> (String, usize) {
    let out = sanitize_mail_html(html, &SanitizeOptions { allow_remote, cid_url: &no_cid }).expect("sanitizes");
    // Only the mail's part: the frame's own head (CSP meta, base styles) is ours.
    let body = out.document.split("<body>").nth(1).unwrap_or("").to_owned();
    (body, out.remote)
}

#[wasm_bindgen_test]
fn active_content_is_removed_and_text_kept() {
    let (body, _) = clean(
        r#"<p onclick="x()">Hello <b>there</b></p><script>alert(1)</script><iframe src="https://x"></iframe>
        <svg><script>1</script></svg><math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>
        <form action="https://x"><input name=a><button>Go</button>Form text</form><object data=x></object><embed src=x>
        <a href="javascript:alert(1)">js</a><a href="https://ok.example/">ok</a><!-- comment <img src=https://t/c> -->"#,
        false,
    );
    for bad in [
        "<script",
        "onclick",
        "<iframe",
        "<svg",
        "<math",
        "<form",
        "<input",
        "<button",
        "<object",
        "<embed",
        "javascript:",
        "<!--",
        "onerror",
    ] {
        assert!(!body.to_lowercase().contains(bad), "{bad} survived: {body}");
    }
    assert!(body.contains("Hello <b>there</b>") && body.contains("Form text"), "{body}");
    assert!(
        body.contains(r#"<a href="https://ok.example/" target="_blank" rel="noopener noreferrer">ok</a>"#),
        "{body}"
    );
    assert!(body.contains("<a>js</a>"), "the unsafe link keeps its text: {body}");
}

#[wasm_bindgen_test]
fn remote_loads_are_counted_and_blocked_until_allowed() {
    let html = r#"<style>@import url(https://t/i.css); p { background: url(https://t/bg.png) }</style>
        <img src="https://t/pixel.gif"><img src="//t/relative.gif"><div style="background-image:url('https://t/d.png')">x</div>
        <table background="https://t/table.png"><tr><td>t</td></tr></table><img srcset="https://t/s.png 1x" alt="s">
        <img src="data:image/png;base64,iVBORw0KGgo=" alt="inline"><img src="data:image/svg+xml,<svg onload=alert(1)>" alt="svg">"#;
    let (blocked, remote) = clean(html, false);
    assert_eq!(remote, 6, "import, css background, two images, inline style, table background");
    assert!(!blocked.contains("https://t/") && !blocked.contains("//t/"), "{blocked}");
    assert!(!blocked.contains("srcset"), "{blocked}");
    assert!(blocked.contains("data:image/png;base64"), "raster data images stay: {blocked}");
    assert!(!blocked.contains("svg+xml"), "{blocked}");
    let (allowed, remote_again) = clean(html, true);
    assert_eq!(remote_again, 6);
    assert!(
        allowed.contains(r#"src="https://t/pixel.gif""#) && allowed.contains("url(&quot;https://t/d.png&quot;)"),
        "{allowed}"
    );
    assert!(!allowed.contains("@import"), "imports never come back: {allowed}");
    let csp = |allow| {
        sanitize_mail_html("<p>x</p>", &SanitizeOptions { allow_remote: allow, cid_url: &no_cid }).unwrap().document
    };
    assert!(csp(false).contains("img-src data: blob:;") && csp(true).contains("img-src data: blob: https: http:;"));
}

#[wasm_bindgen_test]
fn cid_images_map_to_their_parts_and_quotes_fold() {
    let lookup = |cid: &str| (cid == "logo@x").then(|| "blob:https://app.example/1".to_owned());
    let out = sanitize_mail_html(
        r#"<p>Hi</p><img src="cid:logo@x" alt="logo"><img src="cid:missing@x" alt="gone"><blockquote type="cite">old <blockquote>older</blockquote></blockquote>"#,
        &SanitizeOptions { allow_remote: false, cid_url: &lookup },
    )
    .unwrap();
    assert!(out.document.contains(r#"<img src="blob:https://app.example/1" alt="logo">"#), "{}", out.document);
    assert!(out.document.contains(r#"<img alt="gone">"#), "{}", out.document);
    assert_eq!(out.remote, 0);
    // The outer quote folds once; the inner one stays inside it.
    assert_eq!(out.document.matches("<details class=\"quoted\">").count(), 1, "{}", out.document);
    assert!(out.document.contains("<summary>Quoted text</summary><blockquote type=\"cite\">old <blockquote>older</blockquote></blockquote></details>"), "{}", out.document);
}

#[wasm_bindgen_test]
fn style_elements_move_to_the_head_without_breaking_out() {
    let out = sanitize_mail_html(
        "<style>p{color:red}</style><style>p{}</style><p>x</p><style>b{} </style><script>x</script></style>",
        &SanitizeOptions { allow_remote: false, cid_url: &no_cid },
    )
    .unwrap();
    let head = out.document.split("<body>").next().unwrap();
    assert!(head.contains("p{color:red}"), "{head}");
    assert!(!out.document.contains("<script"), "{}", out.document);
}

/// DOM clobbering: named inputs shadow a form's properties and named images a document's. The
/// sanitizer must walk the real tree anyway, and drop names and ids that would shadow anything.
#[wasm_bindgen_test]
fn a_mail_cannot_clobber_the_tree_the_sanitizer_walks() {
    let shadowing = [
        "namespaceURI",
        "childNodes",
        "firstChild",
        "attributes",
        "removeChild",
        "nodeName",
        "parentNode",
        "localName",
        "nodeType",
        "insertBefore",
        "className",
        "getAttributeNames",
        "innerHTML",
        "textContent",
    ];
    let inputs: String = shadowing.iter().map(|n| format!("<input name={n}>")).collect();
    let html = format!(
        r#"<form id=f>{inputs}<p>inside the form</p><img src="https://t/in-form.png" onerror="top.x=1"><a href="javascript:x()">in</a></form>
        <img name=body><image name=body><img id=body><form name=body></form><img name=cookie><img name=getElementById>
        <a id=attributes name=childNodes>a</a><p id=summary-2026 class=kept>kept id</p><a name=section-3>anchor</a><p>after</p>"#
    );
    let (body, remote) = clean(&html, false);
    assert!(body.contains("inside the form") && body.contains("after"), "the walk reached every part: {body}");
    for bad in ["onerror", "javascript:", "<form", "<input", "in-form.png"] {
        assert!(!body.contains(bad), "{bad} survived behind a clobbered form: {body}");
    }
    assert_eq!(remote, 1, "the image inside the form was seen and blocked");
    for shadow in [
        "name=\"body\"",
        "id=\"body\"",
        "name=\"cookie\"",
        "name=\"getElementById\"",
        "id=\"attributes\"",
        "name=\"childNodes\"",
    ] {
        assert!(!body.contains(shadow), "{shadow} would shadow a document or form property: {body}");
    }
    assert!(
        body.contains(r#"id="summary-2026""#) && body.contains(r#"name="section-3""#),
        "harmless ids and names stay: {body}"
    );

    // The same mail quoted in a reply.
    let text = html_to_text(&html);
    assert!(text.contains("inside the form") && text.contains("after"), "{text}");
}

#[wasm_bindgen_test]
fn html_becomes_readable_text_for_quoting() {
    let text = html_to_text("<html><head><style>p{}</style><script>x()</script></head><body><h1>Title</h1><p>One   two<br>three</p><table><tr><td>a</td><td>b</td></tr></table></body></html>");
    assert_eq!(text, "Title\n\nOne two\nthree\n\na b");
}

#[wasm_bindgen_test]
fn the_list_renders_only_the_rows_in_view() {
    // 100,000 rows, a 900 px viewport scrolled to row 50,000: a few dozen rows, around it.
    let (first, last) = visible_range(50_000.0 * ROW_HEIGHT, 900.0, 100_000);
    assert!(first <= 50_000 && last > 50_000 + (900.0 / ROW_HEIGHT) as u64, "{first}..{last}");
    assert!(last - first < 40, "{first}..{last}");
    assert_eq!(visible_range(0.0, 900.0, 3), (0, 3));
    let (first, last) = visible_range(1e9, 900.0, 100_000);
    assert_eq!(last, 100_000);
    assert!(first > last, "past the end is empty: {first}..{last}");
}

#[wasm_bindgen_test]
fn selection_by_click_ctrl_shift_and_keys() {
    let mut s = Selection::default();
    s.click(3);
    assert_eq!((s.cursor, s.chosen.len()), (Some(3), 0));
    s.toggle(5, "e5");
    s.toggle(7, "e7");
    assert_eq!(s.chosen.iter().cloned().collect::<Vec<_>>(), vec!["e5", "e7"]);
    s.toggle(7, "e7");
    assert_eq!(s.chosen.len(), 1);
    // Shift-click from the anchor (row 7) up to row 4.
    s.extend_to(4, |a, b| (a..=b).map(|p| format!("e{p}")).collect());
    assert_eq!(s.chosen.iter().cloned().collect::<Vec<_>>(), vec!["e4", "e5", "e6", "e7"]);
    assert_eq!(s.targets(Some("cursor".into())).len(), 4);
    s.click(0);
    assert_eq!(s.targets(Some("e0".into())), vec!["e0"]);
    assert_eq!(s.step(-1, 10), Some(0));
    s.cursor = Some(9);
    assert_eq!(s.step(1, 10), Some(9));
    assert_eq!(s.step(1, 0), None);
}

#[wasm_bindgen_test]
fn every_shortcut_in_the_help_is_bound() {
    let keys = [
        ("j", Command::Next),
        ("k", Command::Previous),
        ("o", Command::Open),
        ("Enter", Command::Open),
        ("u", Command::BackToList),
        ("x", Command::ToggleSelect),
        ("I", Command::MarkRead),
        ("U", Command::MarkUnread),
        ("r", Command::Reply),
        ("a", Command::ReplyAll),
        ("f", Command::Forward),
        ("c", Command::Compose),
        ("e", Command::Archive),
        ("#", Command::Delete),
        ("s", Command::ToggleFlag),
        ("m", Command::Move),
        ("l", Command::Label),
        ("b", Command::Snooze),
        ("!", Command::Spam),
        ("z", Command::Undo),
        ("/", Command::Search),
        ("?", Command::Help),
        ("Escape", Command::Escape),
    ];
    for (key, command) in keys {
        assert_eq!(command_for(key, false, false, false), Some(command), "{key}");
        assert_eq!(command_for(key, true, false, false), None, "Ctrl+{key} belongs to the browser");
    }
    assert_eq!(command_for("i", false, false, true), Some(Command::GoInbox));
    assert_eq!(command_for("s", false, false, true), Some(Command::GoSent));
    assert_eq!(command_for("d", false, false, true), Some(Command::GoDrafts));
    assert_eq!(command_for("q", false, false, true), None);
    assert_eq!(HELP.len(), 19);
}

#[wasm_bindgen_test]
fn the_composer_builds_drafts_and_names_bad_addresses() {
    let me = Identity { id: "I1".into(), name: "Demo".into(), email: "demo@example.org".into(), ..Default::default() };
    let file = BodyPart { blob_id: Some("B1".into()), name: Some("a.pdf".into()), ..Default::default() };
    let d = build_draft(
        Some(&me),
        "Ann <ann@example.org>, bo@example.org",
        "",
        "",
        "  Hi  ",
        "text".into(),
        None,
        vec![file.clone()],
    )
    .unwrap();
    assert_eq!(d.from, vec![Address { name: Some("Demo".into()), email: "demo@example.org".into() }]);
    assert_eq!(d.to.len(), 2);
    assert_eq!(d.subject, "Hi");
    assert_eq!(d.attachments, vec![file]);
    assert_eq!(d.identity_id.as_deref(), Some("I1"));
    let bad = build_draft(None, "ann@example.org", "not an address", "", "", String::new(), None, vec![]).unwrap_err();
    assert!(bad.starts_with("Cc: "), "{bad}");
}

#[wasm_bindgen_test]
fn addresses_complete_the_entry_being_typed() {
    let people = vec![
        Address { name: Some("Ann Lee".into()), email: "ann@example.com".into() },
        Address { name: None, email: "annette@example.org".into() },
        Address { name: Some("Bo Chen".into()), email: "bo@example.com".into() },
    ];
    let found = suggestions(&people, "bo@example.com, an", 5);
    assert_eq!(
        found.iter().map(|a| a.email.as_str()).collect::<Vec<_>>(),
        vec!["ann@example.com", "annette@example.org"]
    );
    assert!(suggestions(&people, "ann@example.com, ", 5).is_empty(), "nothing typed after the comma");
    assert!(
        suggestions(&people, "ann@example.com, ann", 5).iter().all(|a| a.email != "ann@example.com"),
        "no one twice"
    );
    assert_eq!(complete("bo@example.com, an", &people[0]), "bo@example.com, Ann Lee <ann@example.com>, ");
    assert_eq!(complete("lee", &people[0]), "Ann Lee <ann@example.com>, ");
}

fn mailbox(id: &str, role: petrel::mail::Role) -> petrel::mail::Mailbox {
    petrel::mail::Mailbox { id: id.into(), name: id.into(), role, ..Default::default() }
}

fn email(id: &str, mailbox: &str, seen: bool) -> petrel::mail::EmailSummary {
    let mut e = petrel::mail::EmailSummary { id: id.into(), thread_id: format!("T{id}"), ..Default::default() };
    e.mailbox_ids.insert(mailbox.into(), true);
    e.set_keyword("$seen", seen);
    e
}

#[wasm_bindgen_test]
fn batch_actions_undo_exactly_what_they_changed() {
    use petrel::mail::backend::Delta;
    use petrel::mail::store::MailStore;
    use petrel::mail::{Action, Role};
    use petrel::ui::mail_actions::{plan, Batch};
    let mut store = MailStore::new();
    let boxes = vec![
        mailbox("inbox", Role::Inbox),
        mailbox("archive", Role::Archive),
        mailbox("trash", Role::Trash),
        mailbox("work", Role::Other),
    ];
    store.apply_mailboxes(Delta::Reset { all: boxes, new_state: Some("s1".into()) });
    store.put_email(email("a", "inbox", true));
    store.put_email(email("b", "inbox", false));
    store.put_email(email("c", "work", false));
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    // Marking read undoes only the one that was unread.
    let (actions, said, undo) = plan(&store, &Batch::Read, &ids(&["a", "b"])).unwrap();
    assert_eq!(said, "Marked 2 messages read.");
    assert_eq!(actions, vec![Action::SetKeyword { ids: ids(&["a", "b"]), keyword: "$seen".into(), on: true }]);
    assert_eq!(undo, vec![Action::SetKeyword { ids: ids(&["b"]), keyword: "$seen".into(), on: false }]);

    // Archiving from two folders puts each back where it was.
    let (actions, _, undo) = plan(&store, &Batch::Archive, &ids(&["b", "c"])).unwrap();
    assert_eq!(actions, vec![Action::Move { ids: ids(&["b", "c"]), from: None, to: "archive".into() }]);
    assert!(
        undo.contains(&Action::Move { ids: ids(&["b"]), from: Some("archive".into()), to: "inbox".into() }),
        "{undo:?}"
    );
    assert!(
        undo.contains(&Action::Move { ids: ids(&["c"]), from: Some("archive".into()), to: "work".into() }),
        "{undo:?}"
    );

    // Delete goes to Trash (undoable); in Trash it is for good (nothing to undo).
    let (actions, said, undo) = plan(&store, &Batch::Delete, &ids(&["a"])).unwrap();
    assert_eq!(
        (actions[0].clone(), said.as_str(), undo.len()),
        (Action::Move { ids: ids(&["a"]), from: None, to: "trash".into() }, "Moved 1 message to Trash.", 1)
    );
    store.put_email(email("t", "trash", true));
    let (actions, _, undo) = plan(&store, &Batch::Delete, &ids(&["t"])).unwrap();
    assert_eq!((actions, undo), (vec![Action::Destroy { ids: ids(&["t"]) }], vec![]));

    // No Junk folder: said plainly, nothing done.
    assert_eq!(plan(&store, &Batch::Spam, &ids(&["a"])).unwrap_err(), "This account has no Junk folder.");
    assert_eq!(plan(&store, &Batch::Read, &[]).unwrap_err(), "Select a message first.");
}

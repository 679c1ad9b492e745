"""Petrel's Write panel, as the e2e journeys drive it."""


def compose_and_send(d, to, subject, body):
    """Writes a mail and presses Send; returns once the undo bar shows it was queued."""
    d.element("#compose-button").click()
    d.element("#compose-to").type(to)
    d.element("#compose-subject").type(subject)
    d.element("#compose-body").type(body)
    d.element("#compose-send").click()
    d.element("#undo-send")

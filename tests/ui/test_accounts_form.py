"""The account form's PIN typed twice (issue 14), as a clinician meets it."""

from __future__ import annotations

from kapdesk.ui.accounts_dialog import AccountForm


def test_a_pin_field_left_empty_is_named_and_gets_the_keyboard(qtbot, store):
    """Xvfb QA: one Tab too many put the PIN into "Again"; "The two differ" then left the
    tester asking where the first had gone."""
    form = AccountForm()
    qtbot.addWidget(form)
    form.show()
    qtbot.waitExposed(form)
    form.save = lambda: form.add_to(store)
    form.name.setText("Ana Ruiz")
    form.role.setCurrentIndex(0)
    form.again.setText("582914")
    form._try_save()
    assert form.error.text() == (
        "The first field is empty: type the same PIN or passphrase in both."
    )
    assert form.focusWidget() is form.secret
    form.secret.setText("582914")
    form.again.clear()
    form._try_save()
    assert form.error.text().startswith("The “Again” field is empty")
    assert form.focusWidget() is form.again
    form.again.setText("582915")
    form._try_save()
    assert form.error.text().startswith("The two differ")
    assert store.account_names() == {}


def test_an_empty_name_is_said_before_a_role_not_chosen(qtbot, store):
    """Xvfb QA: with nothing filled in, the form asked for the role first, the name being
    the first field."""
    form = AccountForm()
    qtbot.addWidget(form)
    form.show()
    qtbot.waitExposed(form)
    form.save = lambda: form.add_to(store)
    form._try_save()
    assert "role" not in form.error.text().lower()
    assert "name" in form.error.text().lower()
    assert form.focusWidget() is form.name
    form.name.setText("Ana Ruiz")
    form._try_save()
    assert form.error.text().startswith("Choose a role")
    assert store.account_names() == {}

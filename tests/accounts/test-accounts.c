/* test-accounts.c — Check tests for src/accounts: creation and its
 * refusals (roles, names, e-mail syntax, duplicates), permissions per role,
 * erasure by self and by admin and its refusals, pseudonyms, restore, the
 * invariant checker and the domain events emitted.
 */
#include <check.h>
#include <string.h>

#include "ft-accounts.h"

#define T0 ((FtTime) 5000)

typedef struct {
  FtEventLog *log;
  FtAccounts *a;
  gint rider, field, disp, planner, admin;
} Fx;

static void
fx_init (Fx *fx)
{
  g_autoptr(GError) error = NULL;

  fx->log = ft_event_log_new ();
  fx->a = ft_accounts_new (11, fx->log);
  fx->rider = ft_accounts_create (fx->a, FT_ROLE_RIDER, "Ada", "ada@example.org", T0, &error);
  fx->field = ft_accounts_create (fx->a, FT_ROLE_FIELD, "Finn", NULL, T0, &error);
  fx->disp = ft_accounts_create (fx->a, FT_ROLE_DISPATCHER, "Dana", "dana@ops.example.org", T0, &error);
  fx->planner = ft_accounts_create (fx->a, FT_ROLE_PLANNER | FT_ROLE_RIDER, "Pia", NULL, T0, &error);
  fx->admin = ft_accounts_create (fx->a, FT_ROLE_ADMIN, "Root", "root@example.org", T0, &error);
  ck_assert_msg (error == NULL, "%s", error ? error->message : "");
}

static void
fx_clear (Fx *fx)
{
  ft_accounts_free (fx->a);
  ft_event_log_free (fx->log);
}

static void
assert_check (FtAccounts *a)
{
  g_autoptr(GError) error = NULL;
  ck_assert_msg (ft_accounts_check (a, &error), "check: %s", error ? error->message : "");
}

START_TEST (test_create)
{
  Fx fx;
  const FtAccount *acc;
  guint found;

  fx_init (&fx);
  ck_assert_int_eq (fx.rider, 0);
  ck_assert_int_eq (fx.admin, 4);
  ck_assert_uint_eq (ft_accounts_n (fx.a), 5);
  acc = ft_accounts_get (fx.a, 0);
  ck_assert_str_eq (acc->display_name, "Ada");
  ck_assert_str_eq (acc->email, "ada@example.org");
  ck_assert (ft_uuid_valid (acc->id));
  ck_assert_str_eq (acc->pseudonym, "");
  ck_assert (!acc->erased);
  ck_assert_int_eq (acc->created, T0);
  ck_assert (ft_accounts_lookup_id (fx.a, acc->id, &found));
  ck_assert_uint_eq (found, 0);
  ck_assert (ft_accounts_lookup_email (fx.a, "ADA@Example.ORG", &found));
  ck_assert_uint_eq (found, 0);
  ck_assert (!ft_accounts_lookup_email (fx.a, "nobody@example.org", &found));
  ck_assert (!ft_accounts_lookup_id (fx.a, "x", &found));
  ck_assert_uint_eq (ft_event_log_count (fx.log, FT_EV_ACCOUNT_CREATED), 5);
  {
    guint n;
    const FtEvent *ev = ft_event_log_pending (fx.log, &n);
    ck_assert_int_eq (ev[3].account, 3);
    ck_assert_int_eq (ev[3].a, FT_ROLE_PLANNER | FT_ROLE_RIDER);
  }
  /* Reproducible ids from the seed. */
  {
    g_autoptr(FtAccounts) b = ft_accounts_new (11, NULL);
    ft_accounts_create (b, FT_ROLE_RIDER, "x", NULL, 0, NULL);
    ck_assert_str_eq (ft_accounts_get (b, 0)->id, acc->id);
  }
  /* Names are trimmed; unicode is fine. */
  {
    gint i = ft_accounts_create (fx.a, FT_ROLE_RIDER, "  Zoë Ångström ", " zoe@example.co.uk ", T0, NULL);
    ck_assert_int_ge (i, 0);
    ck_assert_str_eq (ft_accounts_get (fx.a, (guint) i)->display_name, "Zoë Ångström");
    ck_assert_str_eq (ft_accounts_get (fx.a, (guint) i)->email, "zoe@example.co.uk");
  }
  assert_check (fx.a);
  fx_clear (&fx);
}
END_TEST

static void
expect_refused (FtAccounts *a, guint32 roles, const char *name, const char *email,
                gint code, const char *fragment)
{
  g_autoptr(GError) error = NULL;
  guint n = ft_accounts_n (a);

  ck_assert_int_eq (ft_accounts_create (a, roles, name, email, T0, &error), -1);
  ck_assert_msg (g_error_matches (error, FT_ACCOUNTS_ERROR, code), "code for %s/%s: %s",
                 name, email, error ? error->message : "no error");
  ck_assert_msg (strstr (error->message, fragment) != NULL, "\"%s\" lacks \"%s\"", error->message, fragment);
  ck_assert_uint_eq (ft_accounts_n (a), n);
}

START_TEST (test_create_refused)
{
  Fx fx;
  g_autofree char *long_name = g_strnfill (81, 'x');

  fx_init (&fx);
  expect_refused (fx.a, 0, "No roles", NULL, FT_ACCOUNTS_ERROR_INVALID, "roles");
  expect_refused (fx.a, 1u << 9, "Bad role", NULL, FT_ACCOUNTS_ERROR_INVALID, "roles");
  expect_refused (fx.a, FT_ROLE_RIDER, NULL, NULL, FT_ACCOUNTS_ERROR_INVALID, "display name is required");
  expect_refused (fx.a, FT_ROLE_RIDER, "   ", NULL, FT_ACCOUNTS_ERROR_INVALID, "empty");
  expect_refused (fx.a, FT_ROLE_RIDER, long_name, NULL, FT_ACCOUNTS_ERROR_INVALID, "81 characters");
  expect_refused (fx.a, FT_ROLE_RIDER, "Bell\a", NULL, FT_ACCOUNTS_ERROR_INVALID, "control character");
  expect_refused (fx.a, FT_ROLE_RIDER, "\xff\xfe", NULL, FT_ACCOUNTS_ERROR_INVALID, "UTF-8");
  expect_refused (fx.a, FT_ROLE_RIDER, "Eve", "ada@example.org", FT_ACCOUNTS_ERROR_DUPLICATE, "already registered");
  expect_refused (fx.a, FT_ROLE_RIDER, "Eve", "Ada@EXAMPLE.org", FT_ACCOUNTS_ERROR_DUPLICATE, "already registered");
  expect_refused (fx.a, FT_ROLE_RIDER, "Eve", "eve", FT_ACCOUNTS_ERROR_INVALID, "not a valid e-mail");
  expect_refused (fx.a, FT_ROLE_RIDER, "Eve", "eve@localhost", FT_ACCOUNTS_ERROR_INVALID, "eve@localhost");
  assert_check (fx.a);
  ck_assert_uint_eq (ft_event_log_count (fx.log, FT_EV_ACCOUNT_CREATED), 5);
  fx_clear (&fx);
}
END_TEST

START_TEST (test_email_syntax)
{
  g_autofree char *long_local = g_strnfill (65, 'a');
  g_autofree char *long_mail = g_strdup_printf ("%s@example.org", long_local);

  ck_assert (ft_accounts_email_valid ("a@b.co"));
  ck_assert (ft_accounts_email_valid ("first.last+tag@sub.example-mail.org"));
  ck_assert (ft_accounts_email_valid ("o'neil@example.ie"));
  ck_assert (!ft_accounts_email_valid (NULL));
  ck_assert (!ft_accounts_email_valid (""));
  ck_assert (!ft_accounts_email_valid ("@example.org"));
  ck_assert (!ft_accounts_email_valid ("a@"));
  ck_assert (!ft_accounts_email_valid ("a@@example.org"));
  ck_assert (!ft_accounts_email_valid ("a@b@example.org"));
  ck_assert (!ft_accounts_email_valid (".a@example.org"));
  ck_assert (!ft_accounts_email_valid ("a.@example.org"));
  ck_assert (!ft_accounts_email_valid ("a..b@example.org"));
  ck_assert (!ft_accounts_email_valid ("a b@example.org"));
  ck_assert (!ft_accounts_email_valid ("a@example"));
  ck_assert (!ft_accounts_email_valid ("a@-example.org"));
  ck_assert (!ft_accounts_email_valid ("a@example-.org"));
  ck_assert (!ft_accounts_email_valid ("a@example..org"));
  ck_assert (!ft_accounts_email_valid ("a@exa_mple.org"));
  ck_assert (!ft_accounts_email_valid (long_mail));
}
END_TEST

START_TEST (test_permissions)
{
  Fx fx;
  g_autoptr(GError) error = NULL;
  static const struct { int who; FtPermission p; gboolean ok; } cases[] = {
    { 0, FT_PERM_RIDE, TRUE },        { 0, FT_PERM_DISPATCH, FALSE }, { 0, FT_PERM_ERASE, FALSE },
    { 1, FT_PERM_FIELD_WORK, TRUE },  { 1, FT_PERM_RIDE, FALSE },     { 1, FT_PERM_PLAN, FALSE },
    { 2, FT_PERM_DISPATCH, TRUE },    { 2, FT_PERM_FIELD_WORK, FALSE },
    { 3, FT_PERM_PLAN, TRUE },        { 3, FT_PERM_RIDE, TRUE },      { 3, FT_PERM_DISPATCH, FALSE },
    { 4, FT_PERM_ERASE, TRUE },       { 4, FT_PERM_DISPATCH, TRUE },  { 4, FT_PERM_FIELD_WORK, TRUE },
    { 4, FT_PERM_PLAN, TRUE },        { 4, FT_PERM_RIDE, FALSE },
  };
  guint i;

  fx_init (&fx);
  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gboolean ok = ft_accounts_can (fx.a, (guint) cases[i].who, cases[i].p, &error);
      ck_assert_msg (ok == cases[i].ok, "case %u", i);
      if (!ok)
        {
          ck_assert (g_error_matches (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_PERMISSION));
          g_clear_error (&error);
        }
    }
  ck_assert (!ft_accounts_can (fx.a, 1, FT_PERM_RIDE, &error));
  ck_assert_msg (strstr (error->message, "Finn may not ride; that needs the rider role"), "%s", error->message);
  g_clear_error (&error);
  ck_assert (!ft_accounts_can (fx.a, 0, FT_PERM_DISPATCH, &error));
  ck_assert_msg (strstr (error->message, "dispatcher or admin"), "%s", error->message);
  g_clear_error (&error);
  ck_assert (!ft_accounts_can (fx.a, 99, FT_PERM_RIDE, &error));
  ck_assert (g_error_matches (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_NO_SUCH_ACCOUNT));
  ck_assert_str_eq (ft_role_name (FT_ROLE_FIELD), "field staff");
  fx_clear (&fx);
}
END_TEST

START_TEST (test_erase)
{
  Fx fx;
  g_autoptr(GError) error = NULL;
  const FtAccount *acc;
  char id[37];
  guint found;

  fx_init (&fx);
  ft_accounts_count_trip (fx.a, 0);
  ft_accounts_count_trip (fx.a, 0);
  acc = ft_accounts_get (fx.a, 0);
  g_strlcpy (id, acc->id, sizeof id);

  /* Refused: a dispatcher may not erase someone else; state untouched. */
  ck_assert (!ft_accounts_erase (fx.a, 0, (guint) fx.disp, T0, &error));
  ck_assert (g_error_matches (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_PERMISSION));
  ck_assert_msg (strstr (error->message, "cannot erase account 0: Dana may not erase"), "%s", error->message);
  g_clear_error (&error);
  ck_assert (!acc->erased);
  ck_assert_str_eq (acc->email, "ada@example.org");
  ck_assert (!ft_accounts_erase (fx.a, 0, 77, T0, &error));
  ck_assert (g_error_matches (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_NO_SUCH_ACCOUNT));
  g_clear_error (&error);

  /* Self-erasure. */
  ck_assert (ft_accounts_erase (fx.a, 0, 0, T0 + 1, &error));
  acc = ft_accounts_get (fx.a, 0);
  ck_assert (acc->erased);
  ck_assert_ptr_null (acc->display_name);
  ck_assert_ptr_null (acc->email);
  ck_assert (g_str_has_prefix (acc->pseudonym, "erased-"));
  ck_assert_uint_eq (strlen (acc->pseudonym), 15);
  ck_assert_str_eq (acc->id, id);                 /* id, index, trips kept */
  ck_assert_uint_eq (acc->index, 0);
  ck_assert_uint_eq (acc->trips, 2);
  ck_assert_uint_eq (acc->roles, FT_ROLE_RIDER);
  ck_assert (ft_accounts_lookup_id (fx.a, id, &found));
  ck_assert (!ft_accounts_lookup_email (fx.a, "ada@example.org", &found));
  ft_accounts_count_trip (fx.a, 0);               /* a trip in flight may still finish */
  ck_assert_uint_eq (acc->trips, 3);
  assert_check (fx.a);

  /* An erased account can do nothing and cannot be erased again. */
  ck_assert (!ft_accounts_can (fx.a, 0, FT_PERM_RIDE, &error));
  ck_assert (g_error_matches (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_ERASED));
  ck_assert (strstr (error->message, acc->pseudonym) != NULL);
  g_clear_error (&error);
  ck_assert (!ft_accounts_erase (fx.a, 0, (guint) fx.admin, T0, &error));
  ck_assert (g_error_matches (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_ERASED));
  g_clear_error (&error);

  /* The freed address can sign up again as a new account. */
  ck_assert_int_eq (ft_accounts_create (fx.a, FT_ROLE_RIDER, "Ada again", "ada@example.org", T0, &error), 5);

  /* Admin erases someone else; an erased admin can erase no one. */
  ck_assert (ft_accounts_erase (fx.a, (guint) fx.disp, (guint) fx.admin, T0 + 2, &error));
  ck_assert (ft_accounts_erase (fx.a, (guint) fx.admin, (guint) fx.admin, T0 + 3, &error));
  ck_assert (!ft_accounts_erase (fx.a, (guint) fx.field, (guint) fx.admin, T0 + 4, &error));
  ck_assert (g_error_matches (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_ERASED));
  g_clear_error (&error);
  ck_assert_uint_eq (ft_event_log_count (fx.log, FT_EV_ACCOUNT_ERASED), 3);
  {
    guint n;
    const FtEvent *ev = ft_event_log_pending (fx.log, &n);
    ck_assert_int_eq (ev[n - 2].kind, FT_EV_ACCOUNT_ERASED);
    ck_assert_int_eq (ev[n - 2].account, fx.disp);
    ck_assert_int_eq (ev[n - 2].b, fx.admin);
  }
  assert_check (fx.a);
  fx_clear (&fx);
}
END_TEST

/* ft_accounts_can reads a dense copy of each account's roles: a restore
 * that changes the roles or the erasure, and an erasure, must change what
 * the account may do at once, and the checker agrees with the records. */
START_TEST (test_permissions_follow_restore)
{
  Fx fx;
  g_autoptr(FtAccounts) b = ft_accounts_new (99, NULL);
  g_autoptr(GError) error = NULL;
  FtAccount copy;

  fx_init (&fx);
  for (guint i = 0; i < ft_accounts_n (fx.a); i++)
    ft_accounts_restore (b, ft_accounts_get (fx.a, i));
  ck_assert (ft_accounts_can (b, 0, FT_PERM_RIDE, NULL));
  ck_assert (!ft_accounts_can (b, 1, FT_PERM_RIDE, NULL));
  ck_assert (ft_accounts_can (b, 4, FT_PERM_ERASE, NULL));
  /* a rider restored as field staff rides no more, and works the field */
  copy = *ft_accounts_get (b, 0);
  copy.roles = FT_ROLE_FIELD;
  ft_accounts_restore (b, &copy);
  ck_assert (!ft_accounts_can (b, 0, FT_PERM_RIDE, &error));
  ck_assert (g_error_matches (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_PERMISSION));
  g_clear_error (&error);
  ck_assert (ft_accounts_can (b, 0, FT_PERM_FIELD_WORK, NULL));
  /* field staff restored as a rider now rides */
  copy = *ft_accounts_get (b, 1);
  copy.roles = FT_ROLE_RIDER;
  ft_accounts_restore (b, &copy);
  ck_assert (ft_accounts_can (b, 1, FT_PERM_RIDE, NULL));
  ck_assert (!ft_accounts_can (b, 1, FT_PERM_FIELD_WORK, NULL));
  /* an erased account restored loses everything, the admin included */
  ft_accounts_erase (fx.a, 4, 4, T0, NULL);
  ft_accounts_restore (b, ft_accounts_get (fx.a, 4));
  ck_assert (!ft_accounts_can (b, 4, FT_PERM_ERASE, &error));
  ck_assert (g_error_matches (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_ERASED));
  g_clear_error (&error);
  /* erasure in place: the rider may ride no more */
  ck_assert (ft_accounts_can (fx.a, 3, FT_PERM_RIDE, NULL));
  ck_assert (ft_accounts_erase (fx.a, 3, 3, T0, NULL));
  ck_assert (!ft_accounts_can (fx.a, 3, FT_PERM_RIDE, &error));
  ck_assert (g_error_matches (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_ERASED));
  g_clear_error (&error);
  /* a slot restored past the end, then filled */
  copy = *ft_accounts_get (fx.a, 0);
  copy.index = ft_accounts_n (b);
  g_strlcpy (copy.id, "00000000-0000-4000-8000-000000000005", sizeof copy.id);
  copy.email = NULL;
  ft_accounts_restore (b, &copy);
  ck_assert (ft_accounts_can (b, copy.index, FT_PERM_RIDE, NULL));
  assert_check (b);
  assert_check (fx.a);
  fx_clear (&fx);
}
END_TEST

START_TEST (test_restore_check)
{
  Fx fx;
  g_autoptr(FtAccounts) b = ft_accounts_new (99, NULL);
  g_autoptr(GError) error = NULL;
  FtAccount copy;
  guint i, found;

  fx_init (&fx);
  ft_accounts_erase (fx.a, 2, 2, T0, NULL);
  ft_accounts_count_trip (fx.a, 3);
  /* Reload into a fresh set, as the store does. */
  for (i = 0; i < ft_accounts_n (fx.a); i++)
    ft_accounts_restore (b, ft_accounts_get (fx.a, i));
  assert_check (b);
  ck_assert_uint_eq (ft_accounts_n (b), 5);
  for (i = 0; i < 5; i++)
    {
      const FtAccount *x = ft_accounts_get (fx.a, i), *y = ft_accounts_get (b, i);
      ck_assert_str_eq (x->id, y->id);
      ck_assert_pstr_eq (x->display_name, y->display_name);
      ck_assert_pstr_eq (x->email, y->email);
      ck_assert (x->display_name == NULL || x->display_name != y->display_name);   /* copied */
      ck_assert_str_eq (x->pseudonym, y->pseudonym);
      ck_assert_int_eq (x->erased, y->erased);
      ck_assert_uint_eq (x->trips, y->trips);
    }
  ck_assert (ft_accounts_lookup_email (b, "root@example.org", &found));
  ck_assert_uint_eq (found, 4);
  ck_assert (!ft_accounts_lookup_email (b, "dana@ops.example.org", &found));

  /* Overwrite: the old e-mail is released, the new one indexed. */
  copy = *ft_accounts_get (b, 0);
  copy.email = (char *) "ada2@example.org";
  ft_accounts_restore (b, &copy);
  ck_assert (!ft_accounts_lookup_email (b, "ada@example.org", &found));
  ck_assert (ft_accounts_lookup_email (b, "ada2@example.org", &found));
  assert_check (b);

  /* The checker names what is wrong. */
  copy = *ft_accounts_get (b, 2);                 /* erased */
  copy.email = (char *) "leak@example.org";
  ft_accounts_restore (b, &copy);
  ck_assert (!ft_accounts_check (b, &error));
  ck_assert_msg (strstr (error->message, "is erased but still holds personal data"), "%s", error->message);
  g_clear_error (&error);
  copy = *ft_accounts_get (b, 2);                 /* re-read: restore replaced the strings */
  copy.email = NULL;
  ft_accounts_restore (b, &copy);
  assert_check (b);
  copy = *ft_accounts_get (b, 1);
  copy.email = (char *) "root@example.org";       /* same as account 4 */
  ft_accounts_restore (b, &copy);
  ck_assert (!ft_accounts_check (b, &error));
  ck_assert_msg (strstr (error->message, "registered twice"), "%s", error->message);
  g_clear_error (&error);
  copy = *ft_accounts_get (b, 1);
  copy.email = NULL;
  ft_accounts_restore (b, &copy);
  copy = *ft_accounts_get (b, 4);
  ft_accounts_restore (b, &copy);                 /* re-index account 4's e-mail */
  assert_check (b);
  copy = *ft_accounts_get (b, 3);
  copy.roles = 0;
  ft_accounts_restore (b, &copy);
  ck_assert (!ft_accounts_check (b, &error));
  ck_assert_msg (strstr (error->message, "invalid roles"), "%s", error->message);
  fx_clear (&fx);
}
END_TEST

static Suite *
accounts_suite (void)
{
  Suite *s = suite_create ("accounts");
  TCase *tc;

  tc = tcase_create ("create");
  tcase_add_test (tc, test_create);
  tcase_add_test (tc, test_create_refused);
  tcase_add_test (tc, test_email_syntax);
  suite_add_tcase (s, tc);
  tc = tcase_create ("permissions"); tcase_add_test (tc, test_permissions); suite_add_tcase (s, tc);
  tc = tcase_create ("erase"); tcase_add_test (tc, test_erase); suite_add_tcase (s, tc);
  tc = tcase_create ("restore-check"); tcase_add_test (tc, test_restore_check); suite_add_tcase (s, tc);
  tc = tcase_create ("permissions-follow-restore"); tcase_add_test (tc, test_permissions_follow_restore); suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (accounts_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}

/* cmd-accounts.c — `fleet-twin-cli accounts list|create DB`: the staff
 * accounts a live twin acts as (`live --planner`, `live --as`) and the
 * riders of a store. Creating an account is role-checked: only an admin
 * (--as) may create accounts, except the very first admin of a store that
 * has none (bootstrap). Listing shows ids and roles; names and e-mail
 * addresses (personal data) only with --names. Run it while no live twin
 * writes the same store: the twin loads accounts when it starts.
 */
#include "ft-cli.h"
#include "ft-core.h"
#include "ft-file.h"

#include <stdio.h>
#include <string.h>

static int
usage (const char *msg)
{
  fprintf (stderr, "fleet-twin-cli accounts: %s\n", msg);
  return 2;
}

static int
fail (const GError *error)
{
  fprintf (stderr, "fleet-twin-cli accounts: %s\n", error->message);
  return 1;
}

/* The core of an existing Fleet Twin database (never a new file). */
static FtCore *
open_db (const char *path, GError **error)
{
  return ft_cli_open_db_core (path, error);
}

/* "planner", "field", "dispatcher,planner", … → FtRole bits; 0 if unknown. */
static guint32
parse_roles (const char *text, GError **error)
{
  static const struct { const char *name; FtRole role; } names[] = {
    { "rider", FT_ROLE_RIDER }, { "field", FT_ROLE_FIELD }, { "dispatcher", FT_ROLE_DISPATCHER },
    { "planner", FT_ROLE_PLANNER }, { "admin", FT_ROLE_ADMIN },
  };
  g_auto(GStrv) parts = g_strsplit (text, ",", -1);
  guint32 roles = 0;
  for (guint i = 0; parts[i]; i++)
    {
      const char *p = g_strstrip (parts[i]);
      guint k;
      for (k = 0; k < G_N_ELEMENTS (names) && strcmp (p, names[k].name) != 0; k++)
        ;
      if (k == G_N_ELEMENTS (names))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--role: unknown role '%s' (rider, field, dispatcher, planner, admin; several "
                       "joined by commas)", p);
          return 0;
        }
      roles |= names[k].role;
    }
  if (roles == 0)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--role is empty");
  return roles;
}

/* An account id (UUID), an e-mail address or #INDEX. */
static gboolean
find_account (const FtAccounts *a, const char *who, guint *out, GError **error)
{
  guint64 idx;
  if (who[0] == '#' && g_ascii_string_to_unsigned (who + 1, 10, 0, G_MAXUINT32, &idx, NULL))
    {
      if (idx < ft_accounts_n (a))
        {
          *out = (guint) idx;
          return TRUE;
        }
    }
  else if (ft_accounts_lookup_id (a, who, out) || ft_accounts_lookup_email (a, who, out))
    return TRUE;
  g_set_error (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_NO_SUCH_ACCOUNT,
               "--as %s: no such account in the store (give an id, an e-mail or #INDEX)", who);
  return FALSE;
}

static gboolean
has_admin (const FtAccounts *a)
{
  for (guint i = 0; i < ft_accounts_n (a); i++)
    {
      const FtAccount *acc = ft_accounts_get (a, i);
      if (!acc->erased && (acc->roles & FT_ROLE_ADMIN))
        return TRUE;
    }
  return FALSE;
}

static char *
roles_text (guint32 roles)
{
  static const char *const short_names[] = { "rider", "field", "dispatcher", "planner", "admin" };
  GString *s = g_string_new (NULL);
  for (guint b = 0; b < G_N_ELEMENTS (short_names); b++)
    if (roles & (1u << b))
      g_string_append_printf (s, "%s%s", s->len ? "," : "", short_names[b]);
  return g_string_free (s, FALSE);
}

static int
cmd_list (int argc, char **argv)
{
  gboolean names = FALSE, staff_only = FALSE;
  GOptionEntry entries[] = {
    { "names", 0, 0, G_OPTION_ARG_NONE, &names, "Also print names and e-mail addresses (personal data)", NULL },
    { "staff", 0, 0, G_OPTION_ARG_NONE, &staff_only, "Staff accounts only", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("DB — the accounts of a store: index, id, roles");
  g_autoptr(GError) error = NULL;
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage (error->message);
  if (argc != 2)
    return usage ("usage: fleet-twin-cli accounts list DB [--staff] [--names]");
  FtCore *core = open_db (argv[1], &error);
  if (core == NULL)
    return fail (error);
  printf ("index\tid\troles\tstate%s\n", names ? "\tname\temail" : "");
  for (guint i = 0; i < ft_accounts_n (core->accounts); i++)
    {
      const FtAccount *acc = ft_accounts_get (core->accounts, i);
      if (staff_only && !(acc->roles & FT_ROLES_STAFF))
        continue;
      g_autofree char *roles = roles_text (acc->roles);
      printf ("%u\t%s\t%s\t%s", acc->index, acc->id, roles, acc->erased ? "erased" : "active");
      if (names)
        printf ("\t%s\t%s", acc->erased ? acc->pseudonym : acc->display_name,
                acc->email ? acc->email : "");
      printf ("\n");
    }
  ft_core_free (core);
  return 0;
}

static int
cmd_create (int argc, char **argv)
{
  g_autofree char *role = NULL, *name = NULL, *email = NULL, *as = NULL;
  GOptionEntry entries[] = {
    { "role", 'r', 0, G_OPTION_ARG_STRING, &role,
      "rider, field, dispatcher, planner or admin (several joined by commas; required)", "ROLE" },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name, "Display name (required)", "NAME" },
    { "email", 'e', 0, G_OPTION_ARG_STRING, &email, "E-mail address (riders; optional)", "ADDRESS" },
    { "as", 'a', 0, G_OPTION_ARG_STRING, &as, "The admin who creates it: id, e-mail or #INDEX", "WHO" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("DB — create an account; prints its index and id");
  g_option_context_set_description (ctx,
    "Only an admin (--as) may create accounts. A store without any admin accepts\n"
    "one admin without --as: the first, from which the others are made.\n");
  g_autoptr(GError) error = NULL;
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage (error->message);
  if (argc != 2 || role == NULL || name == NULL)
    return usage ("usage: fleet-twin-cli accounts create DB --role ROLE --name NAME [--email ADDRESS] --as ADMIN");
  guint32 roles = parse_roles (role, &error);
  if (roles == 0)
    return usage (error->message);

  FtCore *core = open_db (argv[1], &error);
  if (core == NULL)
    return fail (error);
  int rc = 1;
  if (as == NULL)
    {
      if (has_admin (core->accounts) || roles != FT_ROLE_ADMIN)
        {
          g_set_error (&error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_PERMISSION,
                       "%s: creating an account needs --as ADMIN (only a store without any admin takes "
                       "its first admin, with --role admin, without --as)", argv[1]);
          goto out;
        }
    }
  else
    {
      guint by;
      if (!find_account (core->accounts, as, &by, &error))
        goto out;
      const FtAccount *acc = ft_accounts_get (core->accounts, by);
      if (acc->erased || !(acc->roles & FT_ROLE_ADMIN))
        {
          g_set_error (&error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_PERMISSION,
                       "--as %s: only an admin may create accounts", as);
          goto out;
        }
    }
  gint idx = ft_accounts_create (core->accounts, roles, name, email, g_get_real_time () / 1000, &error);
  if (idx < 0 || !ft_core_commit (core, &error))
    goto out;
  printf ("%d\t%s\n", idx, ft_accounts_get (core->accounts, (guint) idx)->id);
  rc = 0;
out:
  if (rc != 0)
    fail (error);
  if (!ft_core_detach_store (core, rc == 0 ? &error : NULL) && rc == 0)
    rc = fail (error);
  ft_core_free (core);
  return rc;
}

int
ft_cli_accounts (int argc, char **argv)
{
  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      fprintf (argc < 2 ? stderr : stdout,
               "usage: fleet-twin-cli accounts list DB [--staff] [--names]\n"
               "       fleet-twin-cli accounts create DB --role ROLE --name NAME [--email ADDRESS] --as ADMIN\n");
      return argc < 2 ? 2 : 0;
    }
  g_autofree char *sub = g_strdup_printf ("%s %s", argv[0], argv[1]);
  char *saved = argv[1];
  argv[1] = sub;
  int rc;
  if (g_str_equal (saved, "list"))
    rc = cmd_list (argc - 1, argv + 1);
  else if (g_str_equal (saved, "create"))
    rc = cmd_create (argc - 1, argv + 1);
  else
    {
      fprintf (stderr, "fleet-twin-cli accounts: unknown command '%s' (list, create)\n", saved);
      rc = 2;
    }
  argv[1] = saved;
  return rc;
}

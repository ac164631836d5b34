/* ft-accounts.c — riders and staff: creation with validated minimal
 * personal data (display name, optional e-mail, unique case-insensitively),
 * role bits and the permissions they grant, erasure on request (personal
 * data freed, a pseudonym set; index, id, roles and trip count kept so the
 * ledger and statistics still add up), restore, and an invariant checker.
 */
#include "ft-accounts.h"

#include <string.h>

G_DEFINE_QUARK (ft-accounts-error-quark, ft_accounts_error)

#define FT_ROLES_ALL (FT_ROLE_RIDER | FT_ROLES_STAFF)
#define FT_NAME_MAX_CHARS 80

struct _FtAccounts {
  guint64     seed;
  FtEventLog *log;
  GArray     *acc;         /* FtAccount */
  GHashTable *by_email;    /* lower-case e-mail (owned) -> index + 1 */
  GHashTable *by_id;       /* id (owned) -> index + 1 */
  /* per account, the roles it may act with: its roles, 0 once erased. A
   * byte per account, so the permission check every booking step makes
   * reads one dense array instead of the account's 100-byte record. */
  GByteArray *may;
};

static inline guint8
may_of (const FtAccount *acc)
{
  return acc->erased ? 0 : (guint8) (acc->roles & FT_ROLES_ALL);
}

static void
account_clear (gpointer data)
{
  FtAccount *a = data;

  g_free (a->display_name);
  g_free (a->email);
}

FtAccounts *
ft_accounts_new (guint64 seed, FtEventLog *log)
{
  FtAccounts *a = g_new0 (FtAccounts, 1);

  a->seed = seed;
  a->log = log;
  a->acc = g_array_new (FALSE, TRUE, sizeof (FtAccount));
  g_array_set_clear_func (a->acc, account_clear);
  a->by_email = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  a->by_id = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  a->may = g_byte_array_new ();
  return a;
}

void
ft_accounts_free (FtAccounts *a)
{
  if (a == NULL)
    return;
  g_array_unref (a->acc);
  g_hash_table_unref (a->by_email);
  g_hash_table_unref (a->by_id);
  g_byte_array_unref (a->may);
  g_free (a);
}

void
ft_accounts_set_event_log (FtAccounts *a, FtEventLog *log)
{
  g_return_if_fail (a != NULL);
  a->log = log;
}

guint
ft_accounts_n (const FtAccounts *a)
{
  g_return_val_if_fail (a != NULL, 0);
  return a->acc->len;
}

const FtAccount *
ft_accounts_get (const FtAccounts *a, guint i)
{
  g_return_val_if_fail (a != NULL, NULL);
  g_return_val_if_fail (i < a->acc->len, NULL);
  return &g_array_index (a->acc, FtAccount, i);
}

static inline FtAccount *
acc_at (const FtAccounts *a, guint i)
{
  return &g_array_index (a->acc, FtAccount, i);
}

const char *
ft_role_name (FtRole r)
{
  switch (r)
    {
    case FT_ROLE_RIDER: return "rider";
    case FT_ROLE_FIELD: return "field staff";
    case FT_ROLE_DISPATCHER: return "dispatcher";
    case FT_ROLE_PLANNER: return "planner";
    case FT_ROLE_ADMIN: return "admin";
    default: return "unknown role";
    }
}

/* ------------------------------------------------------------ validation */

static gboolean
local_char_ok (char c)
{
  return g_ascii_isalnum (c) || strchr ("!#$%&'*+/=?^_`{|}~-", c) != NULL;
}

gboolean
ft_accounts_email_valid (const char *email)
{
  const char *at, *p, *label;
  gsize len, local_len;
  guint labels = 0;

  if (email == NULL)
    return FALSE;
  len = strlen (email);
  if (len < 3 || len > 254)
    return FALSE;
  at = strchr (email, '@');
  if (at == NULL || strchr (at + 1, '@') != NULL)
    return FALSE;
  local_len = (gsize) (at - email);
  if (local_len == 0 || local_len > 64)
    return FALSE;
  /* Dot-atom: atoms of allowed characters separated by single dots. */
  if (email[0] == '.' || at[-1] == '.')
    return FALSE;
  for (p = email; p < at; p++)
    {
      if (*p == '.')
        {
          if (p[1] == '.')
            return FALSE;
        }
      else if (!local_char_ok (*p))
        return FALSE;
    }
  /* Domain: >= 2 labels of letters/digits/inner hyphens, 1..63 each. */
  label = at + 1;
  for (p = at + 1;; p++)
    {
      if (*p == '.' || *p == '\0')
        {
          gsize ll = (gsize) (p - label);
          if (ll == 0 || ll > 63 || label[0] == '-' || p[-1] == '-')
            return FALSE;
          labels++;
          if (*p == '\0')
            break;
          label = p + 1;
        }
      else if (!g_ascii_isalnum (*p) && *p != '-')
        return FALSE;
    }
  return labels >= 2;
}

/* Returns a trimmed copy of a valid display name, or NULL with an error. */
static char *
clean_name (const char *name, GError **error)
{
  g_autofree char *s = NULL;
  const char *p;
  glong n;

  if (name == NULL)
    {
      g_set_error (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_INVALID,
                   "a display name is required");
      return NULL;
    }
  if (!g_utf8_validate (name, -1, NULL))
    {
      g_set_error (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_INVALID,
                   "the display name is not valid UTF-8 text");
      return NULL;
    }
  s = g_strstrip (g_strdup (name));
  n = g_utf8_strlen (s, -1);
  if (n == 0)
    {
      g_set_error (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_INVALID,
                   "the display name is empty; give at least one visible character");
      return NULL;
    }
  if (n > FT_NAME_MAX_CHARS)
    {
      g_set_error (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_INVALID,
                   "the display name has %ld characters; at most %d are allowed",
                   n, FT_NAME_MAX_CHARS);
      return NULL;
    }
  for (p = s; *p; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      {
        g_set_error (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_INVALID,
                     "the display name contains a control character at position %ld",
                     g_utf8_pointer_to_offset (s, p));
        return NULL;
      }
  return g_steal_pointer (&s);
}

static char *
email_key (const char *email)
{
  return g_ascii_strdown (email, -1);
}

gboolean
ft_accounts_lookup_email (const FtAccounts *a, const char *email, guint *i_out)
{
  g_autofree char *key = NULL;
  gpointer v;

  g_return_val_if_fail (a != NULL, FALSE);
  if (email == NULL)
    return FALSE;
  key = email_key (email);
  g_strstrip (key);
  v = g_hash_table_lookup (a->by_email, key);
  if (v == NULL)
    return FALSE;
  if (i_out)
    *i_out = GPOINTER_TO_UINT (v) - 1;
  return TRUE;
}

gboolean
ft_accounts_lookup_id (const FtAccounts *a, const char *id, guint *i_out)
{
  gpointer v;

  g_return_val_if_fail (a != NULL, FALSE);
  if (id == NULL)
    return FALSE;
  v = g_hash_table_lookup (a->by_id, id);
  if (v == NULL)
    return FALSE;
  if (i_out)
    *i_out = GPOINTER_TO_UINT (v) - 1;
  return TRUE;
}

static void
emit (FtAccounts *a, FtEventKind kind, guint i, gint32 arg, gint64 b, FtTime now)
{
  FtEvent ev;

  if (a->log == NULL)
    return;
  ev = ft_event_init (kind, now);
  ev.account = (gint32) i;
  ev.a = arg;
  ev.b = b;
  ft_event_log_append (a->log, &ev);
}

gint
ft_accounts_create (FtAccounts *a, guint32 roles, const char *display_name,
                    const char *email, FtTime now, GError **error)
{
  g_autofree char *name = NULL;
  g_autofree char *mail = NULL;
  FtAccount acc;
  guint i;
  guint64 k;

  g_return_val_if_fail (a != NULL, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);
  if (roles == 0 || (roles & ~(guint32) FT_ROLES_ALL) != 0)
    {
      g_set_error (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_INVALID,
                   "roles 0x%x are not a set of rider, field staff, dispatcher, planner, admin", roles);
      return -1;
    }
  name = clean_name (display_name, error);
  if (name == NULL)
    return -1;
  if (email != NULL)
    {
      guint other;

      mail = g_strstrip (g_strdup (email));
      if (!ft_accounts_email_valid (mail))
        {
          g_set_error (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_INVALID,
                       "\"%s\" is not a valid e-mail address (expected name@example.org)", mail);
          return -1;
        }
      if (ft_accounts_lookup_email (a, mail, &other))
        {
          g_set_error (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_DUPLICATE,
                       "the e-mail address %s is already registered; sign in instead", mail);
          return -1;
        }
    }
  if (a->acc->len >= G_MAXINT32)
    {
      g_set_error (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_INVALID, "too many accounts");
      return -1;
    }

  i = a->acc->len;
  memset (&acc, 0, sizeof acc);
  acc.index = i;
  k = ft_mix64 (a->seed ^ G_GUINT64_CONSTANT (0xacc0acc0)) + i;
  ft_uuid_from_words (ft_mix64 (2 * k + 1), ft_mix64 (2 * k + 2), acc.id);
  while (g_hash_table_contains (a->by_id, acc.id))      /* never in practice */
    {
      k += 0x9e37;
      ft_uuid_from_words (ft_mix64 (k), ft_mix64 (k + 1), acc.id);
    }
  acc.roles = roles;
  acc.display_name = g_steal_pointer (&name);
  acc.email = g_steal_pointer (&mail);
  acc.created = now;
  g_array_append_val (a->acc, acc);
  {
    guint8 m = may_of (&acc);
    g_byte_array_append (a->may, &m, 1);
  }
  g_hash_table_insert (a->by_id, g_strdup (acc.id), GUINT_TO_POINTER (i + 1));
  if (acc.email)
    g_hash_table_insert (a->by_email, email_key (acc.email), GUINT_TO_POINTER (i + 1));
  emit (a, FT_EV_ACCOUNT_CREATED, i, (gint32) roles, -1, now);
  return (gint) i;
}

static guint32
roles_for (FtPermission perm)
{
  switch (perm)
    {
    case FT_PERM_RIDE: return FT_ROLE_RIDER;
    case FT_PERM_DISPATCH: return FT_ROLE_DISPATCHER | FT_ROLE_ADMIN;
    case FT_PERM_FIELD_WORK: return FT_ROLE_FIELD | FT_ROLE_ADMIN;
    case FT_PERM_PLAN: return FT_ROLE_PLANNER | FT_ROLE_ADMIN;
    case FT_PERM_ERASE: return FT_ROLE_ADMIN;
    default: return 0;
    }
}

static const char *
perm_name (FtPermission perm)
{
  switch (perm)
    {
    case FT_PERM_RIDE: return "ride";
    case FT_PERM_DISPATCH: return "dispatch";
    case FT_PERM_FIELD_WORK: return "do field work";
    case FT_PERM_PLAN: return "plan";
    case FT_PERM_ERASE: return "erase other accounts";
    default: return "do that";
    }
}

static char *
roles_text (guint32 roles)
{
  GString *s = g_string_new (NULL);
  guint b;

  for (b = 0; b < 5; b++)
    if (roles & (1u << b))
      g_string_append_printf (s, "%s%s", s->len ? " or " : "", ft_role_name ((FtRole) (1u << b)));
  return g_string_free (s, FALSE);
}

static const char *
label (const FtAccount *acc)
{
  return acc->erased ? acc->pseudonym : (acc->display_name ? acc->display_name : acc->id);
}

gboolean
ft_accounts_can (const FtAccounts *a, guint i, FtPermission perm, GError **error)
{
  const FtAccount *acc;
  guint32 need;

  g_return_val_if_fail (a != NULL, FALSE);
  /* the common case from the dense array; a refusal is explained from the
   * account's record below */
  if (i < a->may->len && (a->may->data[i] & roles_for (perm)) != 0)
    return TRUE;
  if (i >= a->acc->len)
    {
      g_set_error (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_NO_SUCH_ACCOUNT,
                   "there is no account %u", i);
      return FALSE;
    }
  acc = acc_at (a, i);
  if (acc->erased)
    {
      g_set_error (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_ERASED,
                   "account %s was erased and can no longer %s", acc->pseudonym, perm_name (perm));
      return FALSE;
    }
  need = roles_for (perm);
  if ((acc->roles & need) == 0)
    {
      g_autofree char *want = roles_text (need);
      g_set_error (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_PERMISSION,
                   "%s may not %s; that needs the %s role", label (acc), perm_name (perm), want);
      return FALSE;
    }
  return TRUE;
}

gboolean
ft_accounts_erase (FtAccounts *a, guint i, guint by, FtTime now, GError **error)
{
  FtAccount *acc;
  g_autofree char *key = NULL;

  g_return_val_if_fail (a != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (i >= a->acc->len || by >= a->acc->len)
    {
      g_set_error (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_NO_SUCH_ACCOUNT,
                   "there is no account %u", i >= a->acc->len ? i : by);
      return FALSE;
    }
  acc = acc_at (a, i);
  if (acc->erased)
    {
      g_set_error (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_ERASED,
                   "account %s is already erased; nothing personal is left to remove", acc->pseudonym);
      return FALSE;
    }
  if (by != i)
    {
      GError *local = NULL;
      if (!ft_accounts_can (a, by, FT_PERM_ERASE, &local))
        {
          g_propagate_prefixed_error (error, local, "cannot erase account %u: ", i);
          return FALSE;
        }
    }

  if (acc->email)
    {
      key = email_key (acc->email);
      g_hash_table_remove (a->by_email, key);
    }
  g_clear_pointer (&acc->display_name, g_free);
  g_clear_pointer (&acc->email, g_free);
  g_snprintf (acc->pseudonym, sizeof acc->pseudonym, "erased-%08x",
              (guint32) ft_mix64 (a->seed ^ ft_hash_string64 (acc->id)));
  acc->erased = TRUE;
  a->may->data[i] = may_of (acc);
  emit (a, FT_EV_ACCOUNT_ERASED, i, (gint32) (by == i ? 0 : 1), by, now);
  return TRUE;
}

void
ft_accounts_count_trip (FtAccounts *a, guint i)
{
  g_return_if_fail (a != NULL);
  g_return_if_fail (i < a->acc->len);
  acc_at (a, i)->trips++;
}

void
ft_accounts_prefetch (const FtAccounts *a, guint i)
{
  /* the line the request path touches: a trip's end counts the trip (a
   * record is 112 bytes, so `trips` lies in another line than its start;
   * the rider checks read the `may` bytes, not the record) */
  if (a != NULL && i < a->acc->len)
    __builtin_prefetch (&acc_at (a, i)->trips, 1);
}

void
ft_accounts_restore (FtAccounts *a, const FtAccount *src)
{
  FtAccount *acc;
  guint i;
  /* Copy first: src may alias the strings of the entry it overwrites. */
  char *name, *mail;

  g_return_if_fail (a != NULL && src != NULL);
  g_return_if_fail (src->index <= a->acc->len);
  name = g_strdup (src->display_name);
  mail = g_strdup (src->email);
  i = src->index;
  if (i == a->acc->len)
    {
      FtAccount blank;
      guint8 none = 0;
      memset (&blank, 0, sizeof blank);
      g_array_append_val (a->acc, blank);
      g_byte_array_append (a->may, &none, 1);
    }
  acc = acc_at (a, i);
  /* Drop the old entry's index keys (only if they point here). */
  if (acc->email)
    {
      g_autofree char *key = email_key (acc->email);
      if (GPOINTER_TO_UINT (g_hash_table_lookup (a->by_email, key)) == i + 1)
        g_hash_table_remove (a->by_email, key);
    }
  if (acc->id[0] && GPOINTER_TO_UINT (g_hash_table_lookup (a->by_id, acc->id)) == i + 1)
    g_hash_table_remove (a->by_id, acc->id);
  account_clear (acc);

  *acc = *src;
  acc->display_name = name;
  acc->email = mail;
  acc->id[sizeof acc->id - 1] = '\0';
  acc->pseudonym[sizeof acc->pseudonym - 1] = '\0';
  a->may->data[i] = may_of (acc);
  if (acc->id[0])
    g_hash_table_insert (a->by_id, g_strdup (acc->id), GUINT_TO_POINTER (i + 1));
  if (acc->email)
    g_hash_table_insert (a->by_email, email_key (acc->email), GUINT_TO_POINTER (i + 1));
}

#define CHECK_FAIL(...) \
  G_STMT_START { g_set_error (error, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_INVALID, __VA_ARGS__); return FALSE; } G_STMT_END

gboolean
ft_accounts_check (const FtAccounts *a, GError **error)
{
  guint i, n_email = 0;

  g_return_val_if_fail (a != NULL, FALSE);
  for (i = 0; i < a->acc->len; i++)
    {
      const FtAccount *acc = acc_at (a, i);
      guint found;

      if (acc->index != i)
        CHECK_FAIL ("account at %u says its index is %u", i, acc->index);
      if (!ft_uuid_valid (acc->id))
        CHECK_FAIL ("account %u has no valid id (\"%s\")", i, acc->id);
      if (!ft_accounts_lookup_id (a, acc->id, &found) || found != i)
        CHECK_FAIL ("account %u: id %s is not unique or not indexed", i, acc->id);
      if (acc->roles == 0 || (acc->roles & ~(guint32) FT_ROLES_ALL))
        CHECK_FAIL ("account %u has invalid roles 0x%x", i, acc->roles);
      if (i >= a->may->len || a->may->data[i] != may_of (acc))
        CHECK_FAIL ("account %u: the permission index says roles 0x%x, the account 0x%x%s", i,
                    i < a->may->len ? a->may->data[i] : 0u, acc->roles, acc->erased ? " (erased)" : "");
      if (acc->erased)
        {
          if (acc->display_name || acc->email)
            CHECK_FAIL ("account %u (%s) is erased but still holds personal data", i, acc->pseudonym);
          if (!g_str_has_prefix (acc->pseudonym, "erased-"))
            CHECK_FAIL ("account %u is erased but has no pseudonym", i);
        }
      else
        {
          if (acc->display_name == NULL)
            CHECK_FAIL ("account %u is not erased but has no display name", i);
          if (acc->pseudonym[0])
            CHECK_FAIL ("account %u (%s) is not erased but has pseudonym %s", i, acc->display_name, acc->pseudonym);
        }
      if (acc->email)
        {
          n_email++;
          if (!ft_accounts_lookup_email (a, acc->email, &found) || found != i)
            CHECK_FAIL ("account %u: e-mail %s is registered twice or not indexed", i, acc->email);
        }
    }
  if (n_email != g_hash_table_size (a->by_email))
    CHECK_FAIL ("%u e-mail addresses are held but %u are indexed", n_email, g_hash_table_size (a->by_email));
  if (a->may->len != a->acc->len)
    CHECK_FAIL ("%u accounts but %u in the permission index", a->acc->len, a->may->len);
  if (a->acc->len != g_hash_table_size (a->by_id))
    CHECK_FAIL ("%u accounts but %u ids indexed", a->acc->len, g_hash_table_size (a->by_id));
  return TRUE;
}

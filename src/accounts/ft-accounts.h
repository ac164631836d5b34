/* ft-accounts.h — riders and staff. Minimal personal data (display name,
 * e-mail); roles decide what an account may do. Erasure on request removes
 * personal data and replaces it with a pseudonym, yet keeps the account's
 * index, its ledger history and its trips countable.
 */
#pragma once

#include "ft-common.h"
#include "ft-event.h"

G_BEGIN_DECLS

#define FT_ACCOUNTS_ERROR (ft_accounts_error_quark ())
GQuark ft_accounts_error_quark (void);
typedef enum {
  FT_ACCOUNTS_ERROR_NO_SUCH_ACCOUNT,
  FT_ACCOUNTS_ERROR_ERASED,          /* the account was erased and can no longer act */
  FT_ACCOUNTS_ERROR_PERMISSION,      /* role does not allow the action */
  FT_ACCOUNTS_ERROR_INVALID,         /* bad name / e-mail */
  FT_ACCOUNTS_ERROR_DUPLICATE,       /* e-mail already registered */
} FtAccountsError;

typedef enum {
  FT_ROLE_RIDER      = 1 << 0,
  FT_ROLE_FIELD      = 1 << 1,   /* field staff */
  FT_ROLE_DISPATCHER = 1 << 2,
  FT_ROLE_PLANNER    = 1 << 3,
  FT_ROLE_ADMIN      = 1 << 4,
} FtRole;

#define FT_ROLES_STAFF (FT_ROLE_FIELD | FT_ROLE_DISPATCHER | FT_ROLE_PLANNER | FT_ROLE_ADMIN)

typedef enum {
  FT_PERM_RIDE,          /* rider */
  FT_PERM_DISPATCH,      /* dispatcher, admin */
  FT_PERM_FIELD_WORK,    /* field staff, admin */
  FT_PERM_PLAN,          /* planner, admin */
  FT_PERM_ERASE,         /* admin */
} FtPermission;

typedef struct {
  guint32  index;
  char     id[37];          /* UUID, stable, survives erasure */
  guint32  roles;           /* FtRole bits */
  char    *display_name;    /* NULL after erasure */
  char    *email;           /* NULL after erasure */
  char     pseudonym[24];   /* "erased-7f3a9c01" after erasure, else "" */
  gboolean erased;
  FtTime   created;
  guint32  trips;           /* completed trips */
} FtAccount;

typedef struct _FtAccounts FtAccounts;

FtAccounts      *ft_accounts_new         (guint64 seed, FtEventLog *log);
void             ft_accounts_free        (FtAccounts *a);
void             ft_accounts_set_event_log (FtAccounts *a, FtEventLog *log);
/* Returns the index, or -1 with an error. roles: nonzero FtRole bits.
 * display_name: required, 1..80 characters of UTF-8 without control
 * characters (surrounding blanks are trimmed). email may be NULL (staff,
 * sim riders); otherwise valid and not registered to a live account. */
gint             ft_accounts_create      (FtAccounts *a, guint32 roles, const char *display_name,
                                          const char *email, FtTime now, GError **error);
guint            ft_accounts_n           (const FtAccounts *a);
const FtAccount *ft_accounts_get         (const FtAccounts *a, guint i);
gboolean         ft_accounts_lookup_id   (const FtAccounts *a, const char *id, guint *i_out);
/* Case-insensitive; erased accounts are not found (their e-mail is gone). */
gboolean         ft_accounts_lookup_email (const FtAccounts *a, const char *email, guint *i_out);
/* Practical address check: one '@', dot-atom local part <= 64, a domain of
 * >= 2 labels (letters, digits, inner hyphens), <= 254 bytes in all. */
gboolean         ft_accounts_email_valid (const char *email);
/* FALSE with FT_ACCOUNTS_ERROR_PERMISSION / _ERASED / _NO_SUCH_ACCOUNT. */
gboolean         ft_accounts_can         (const FtAccounts *a, guint i, FtPermission perm,
                                          GError **error);
/* Erase personal data. `by` must hold FT_PERM_ERASE, or be the account
 * itself; neither may be erased already. Index, id, roles, created and
 * trips stay, so the ledger and trip counts still add up. */
gboolean         ft_accounts_erase       (FtAccounts *a, guint i, guint by, FtTime now,
                                          GError **error);
void             ft_accounts_count_trip  (FtAccounts *a, guint i);
/* Starts loading the part of account i's record that a trip's end
 * writes (its trip count) for a step about to reach it (a hint: nothing
 * if there is no such account). */
void             ft_accounts_prefetch    (const FtAccounts *a, guint i);
/* Wholesale restore (store reload): index < n overwrites, == n appends;
 * strings are copied; no events. */
void             ft_accounts_restore     (FtAccounts *a, const FtAccount *acc);
const char      *ft_role_name            (FtRole r);
gboolean         ft_accounts_check       (const FtAccounts *a, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtAccounts, ft_accounts_free)

G_END_DECLS

/* ft-assist-text.c — message normalisation, tokens and hashed features,
 * shared by the build-time trainer and the assistant.
 */
#include "ft-assist-text.h"
#include "ft-assist-intent.h"

#include <string.h>
#include <math.h>

static gboolean
is_word_char (gunichar c)
{
  return g_unichar_isalnum (c);
}

/* Case-fold and strip combining marks: "Café" -> "cafe". */
static char *
fold (const char *text, gsize len)
{
  g_autofree char *cf = g_utf8_casefold (text, (gssize) len);
  g_autofree char *nfd = g_utf8_normalize (cf, -1, G_NORMALIZE_NFKD);
  GString *out = g_string_sized_new (strlen (nfd ? nfd : ""));

  if (!nfd)
    return g_string_free (out, FALSE);
  for (const char *p = nfd; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      GUnicodeType t = g_unichar_type (c);
      if (t == G_UNICODE_NON_SPACING_MARK || t == G_UNICODE_SPACING_MARK || t == G_UNICODE_ENCLOSING_MARK)
        continue;
      g_string_append_unichar (out, c);
    }
  return g_string_free (out, FALSE);
}

static gboolean
all_digits (const char *s)
{
  if (!*s)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isdigit (*s))
      return FALSE;
  return TRUE;
}

static gboolean
is_currency_word (const char *s)
{
  return strcmp (s, "eur") == 0 || strcmp (s, "euro") == 0 || strcmp (s, "euros") == 0 ||
         strcmp (s, "e") == 0 || strcmp (s, "cents") == 0 || strcmp (s, "cent") == 0 ||
         strcmp (s, "dollars") == 0 || strcmp (s, "pounds") == 0;
}

char **
ft_assist_tokens (const char *text, gsize len)
{
  g_autofree char *f = NULL;
  g_autoptr(GPtrArray) raw = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *out = g_ptr_array_new ();
  GString *cur = g_string_new (NULL);
  gboolean money_sign = FALSE;

  g_return_val_if_fail (text != NULL || len == 0, NULL);
  f = fold (text ? text : "", len);

  /* Raw tokens: runs of letters and digits; an apostrophe inside a word is
   * dropped ("can't" -> "cant"); "8:15", "3.50", "3,50" stay one token;
   * "ft-0042" stays one token; currency signs become a "<cur>" marker. */
  for (const char *p = f; ; p = g_utf8_next_char (p))
    {
      gunichar c = *p ? g_utf8_get_char (p) : 0;
      if (c && is_word_char (c))
        {
          g_string_append_unichar (cur, c);
          continue;
        }
      if (c && cur->len > 0)
        {
          gunichar n = g_utf8_get_char (g_utf8_next_char (p));
          gboolean digits = g_ascii_isdigit (cur->str[cur->len - 1]);
          if ((c == '\'' || c == 0x2019) && g_unichar_isalpha (n))
            continue;
          if ((c == ':' || c == '.' || c == ',') && digits && n < 128 && g_ascii_isdigit ((char) n))
            {
              g_string_append_c (cur, (char) c);
              continue;
            }
          if (c == '-' && strcmp (cur->str, "ft") == 0 && n < 128 && g_ascii_isdigit ((char) n))
            {
              g_string_append_c (cur, '-');
              continue;
            }
        }
      if (cur->len > 0)
        g_ptr_array_add (raw, g_string_free (g_steal_pointer (&cur), FALSE)), cur = g_string_new (NULL);
      if (c == 0x20AC || c == '$' || c == 0xA3)
        g_ptr_array_add (raw, g_strdup ("<cur>"));
      if (!c)
        break;
    }
  g_string_free (cur, TRUE);

  /* Classes. */
  for (guint i = 0; i < raw->len; i++)
    {
      const char *t = raw->pdata[i];
      const char *next = i + 1 < raw->len ? raw->pdata[i + 1] : "";
      if (strcmp (t, "<cur>") == 0)
        {
          money_sign = TRUE;
          continue;
        }
      gboolean numeric = g_ascii_isdigit (t[0]);
      if (g_str_has_prefix (t, "ft-") && all_digits (t + 3))
        g_ptr_array_add (out, g_strdup ("<vehicle>"));
      else if (numeric && (money_sign || is_currency_word (next)))
        g_ptr_array_add (out, g_strdup ("<money>"));
      else if (numeric && strchr (t, ':'))
        g_ptr_array_add (out, g_strdup ("<time>"));
      else if (numeric && (strchr (t, '.') || strchr (t, ',')))
        g_ptr_array_add (out, g_strdup ("<money>"));   /* "7.80": an amount more often than not */
      else if (numeric && all_digits (t) &&
               (strcmp (next, "am") == 0 || strcmp (next, "pm") == 0 || strcmp (next, "oclock") == 0))
        g_ptr_array_add (out, g_strdup ("<time>"));
      else if (numeric && all_digits (t))
        g_ptr_array_add (out, g_strdup ("<num>"));
      else if (numeric)
        {
          /* "10km", "5min", "8am": number then unit */
          const char *u = t;
          while (g_ascii_isdigit (*u))
            u++;
          g_ptr_array_add (out, g_strdup (strcmp (u, "am") == 0 || strcmp (u, "pm") == 0 ? "<time>" : "<num>"));
          g_ptr_array_add (out, g_strdup (u));
        }
      else if (money_sign && is_currency_word (t))
        ;
      else
        g_ptr_array_add (out, g_strdup (t));
      money_sign = FALSE;
    }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}

/* FNV-1a, then folded into the feature space. */
static guint32
feature_index (const char *kind, const char *a, const char *b)
{
  guint32 h = 2166136261u;
  for (const char *s = kind; *s; s++)
    h = (h ^ (guchar) *s) * 16777619u;
  for (const char *s = a; *s; s++)
    h = (h ^ (guchar) *s) * 16777619u;
  if (b)
    {
      h = (h ^ 0x1f) * 16777619u;
      for (const char *s = b; *s; s++)
        h = (h ^ (guchar) *s) * 16777619u;
    }
  return (h & (FT_ASSIST_N_FEATURES - 1)) + 1;
}

static int
cmp_feature (gconstpointer a, gconstpointer b)
{
  const FtAssistFeature *x = a, *y = b;
  return (x->index > y->index) - (x->index < y->index);
}

static void
add (GArray *out, guint32 index, double v)
{
  FtAssistFeature f = { index, v };
  g_array_append_val (out, f);
}

guint
ft_assist_features (const char *text, gsize len, GArray *out)
{
  g_auto(GStrv) toks = NULL;
  guint n, w = 0;
  double norm = 0;

  g_return_val_if_fail (out != NULL, 0);
  g_array_set_size (out, 0);
  toks = ft_assist_tokens (text, len);
  n = g_strv_length (toks);

  for (guint i = 0; i < n; i++)
    {
      const char *t = toks[i];
      add (out, feature_index ("w", t, NULL), 1.0);
      add (out, feature_index ("b", i ? toks[i - 1] : "^", t), 1.0);
      if (t[0] != '<')
        {
          /* character trigrams of "^word$" (UTF-8 characters) catch typos */
          g_autofree char *padded = g_strdup_printf ("^%s$", t);
          glong nc = g_utf8_strlen (padded, -1);
          const char *p = padded;
          for (glong k = 0; k + 3 <= nc; k++, p = g_utf8_next_char (p))
            {
              const char *e = g_utf8_offset_to_pointer (p, 3);
              g_autofree char *tri = g_strndup (p, (gsize) (e - p));
              add (out, feature_index ("c", tri, NULL), 0.5);
            }
        }
    }
  if (n > 0)
    add (out, feature_index ("b", toks[n - 1], "$"), 1.0);

  /* merge duplicates, normalise */
  g_array_sort (out, cmp_feature);
  for (guint i = 0; i < out->len; i++)
    {
      FtAssistFeature *f = &g_array_index (out, FtAssistFeature, i);
      if (w > 0 && g_array_index (out, FtAssistFeature, w - 1).index == f->index)
        g_array_index (out, FtAssistFeature, w - 1).value += f->value;
      else
        g_array_index (out, FtAssistFeature, w++) = *f;
    }
  g_array_set_size (out, w);
  for (guint i = 0; i < w; i++)
    norm += g_array_index (out, FtAssistFeature, i).value * g_array_index (out, FtAssistFeature, i).value;
  norm = sqrt (norm);
  for (guint i = 0; i < w && norm > 0; i++)
    g_array_index (out, FtAssistFeature, i).value /= norm;
  return w;
}

static const char *const intent_names[FT_N_INTENTS] = {
  "find_vehicle", "explain_charge", "cannot_end_ride", "unlock_failed", "battery_range",
  "refund_request", "report_damage", "report_parking", "account_data", "lost_item",
  "payment_topup", "offers_points", "human_agent", "out_of_scope",
};

const char *
ft_intent_name (FtIntent i)
{
  g_return_val_if_fail (i < FT_N_INTENTS, "out_of_scope");
  return intent_names[i];
}

gboolean
ft_intent_from_name (const char *name, FtIntent *out)
{
  for (guint i = 0; name && i < FT_N_INTENTS; i++)
    if (strcmp (name, intent_names[i]) == 0)
      {
        if (out)
          *out = (FtIntent) i;
        return TRUE;
      }
  return FALSE;
}


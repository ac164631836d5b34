/* test-common.c — Check tests for src/common: distances, offsets, money and
 * time formatting, UUIDs, mixing/hash, and the domain event log (seq,
 * pending/drain, counters, retain, listeners, the tap, kind names).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "ft-common.h"
#include "ft-event.h"

/* the haversine as ft_distance_m once wrote it, cos (la1) worked out inline */
static double
plain_haversine (FtLatLon a, FtLatLon b)
{
  double la1 = a.lat * (G_PI / 180.0), la2 = b.lat * (G_PI / 180.0);
  double dla = la2 - la1;
  double dlo = (b.lon - a.lon) * (G_PI / 180.0);
  double s1 = sin (dla / 2.0), s2 = sin (dlo / 2.0);
  double h = s1 * s1 + cos (la1) * cos (la2) * s2 * s2;
  if (h > 1.0)
    h = 1.0;
  return 2.0 * 6371008.8 * asin (sqrt (h));
}

/* ft_distance_from_m with its cos worked out once per a gives
 * ft_distance_m's bits and the plain formula's, over random pairs near
 * each other (as the grid's searches ask) and anywhere on the globe. */
START_TEST (test_distance_from_matches_plain)
{
  GRand *r = g_rand_new_with_seed (1609);
  for (int i = 0; i < 20000; i++)
    {
      FtLatLon a = { g_rand_double_range (r, -89.9, 89.9), g_rand_double_range (r, -180, 180) }, b;
      if (i % 2 == 0)
        b = (FtLatLon) { a.lat + g_rand_double_range (r, -0.05, 0.05), a.lon + g_rand_double_range (r, -0.05, 0.05) };
      else
        b = (FtLatLon) { g_rand_double_range (r, -90, 90), g_rand_double_range (r, -180, 180) };
      double cos_a = ft_distance_cos_lat (a.lat);
      double want = plain_haversine (a, b);
      ck_assert_msg (ft_distance_from_m (a, cos_a, b) == want, "%.17g %.17g -> %.17g %.17g", a.lat, a.lon, b.lat, b.lon);
      ck_assert (ft_distance_m (a, b) == want);
    }
  g_rand_free (r);
}
END_TEST

START_TEST (test_distance)
{
  FtLatLon paris = { 48.8566, 2.3522 }, london = { 51.5074, -0.1278 };
  FtLatLon a = { 52.52, 13.405 }, b;
  double d = ft_distance_m (paris, london);

  ck_assert_msg (fabs (d - 343500) < 1500, "Paris-London %f", d);
  ck_assert_double_eq_tol (ft_distance_m (paris, paris), 0.0, 1e-9);
  /* Fast approximation within 0.5% below 50 km. */
  b = ft_latlon_offset (a, 3000, 4000);
  ck_assert_double_eq_tol (ft_distance_m (a, b), 5000.0, 5.0);
  ck_assert_double_le (fabs (ft_distance_fast_m (a, b) - ft_distance_m (a, b)) / ft_distance_m (a, b), 0.005);
  b = ft_latlon_offset (a, -20000, 30000);
  ck_assert_double_le (fabs (ft_distance_fast_m (a, b) - ft_distance_m (a, b)) / ft_distance_m (a, b), 0.005);
}
END_TEST

START_TEST (test_latlon_valid)
{
  ck_assert (ft_latlon_valid ((FtLatLon) { 0, 0 }));
  ck_assert (ft_latlon_valid ((FtLatLon) { -90, 180 }));
  ck_assert (!ft_latlon_valid ((FtLatLon) { 91, 0 }));
  ck_assert (!ft_latlon_valid ((FtLatLon) { 0, -180.5 }));
  ck_assert (!ft_latlon_valid ((FtLatLon) { NAN, 0 }));
  ck_assert (!ft_latlon_valid ((FtLatLon) { 0, INFINITY }));
}
END_TEST

START_TEST (test_money_time)
{
  char *s;

  s = ft_money_format (1234, "EUR"); ck_assert_str_eq (s, "12.34 EUR"); g_free (s);
  s = ft_money_format (-50, "EUR"); ck_assert_str_eq (s, "-0.50 EUR"); g_free (s);
  s = ft_money_format (0, "USD"); ck_assert_str_eq (s, "0.00 USD"); g_free (s);
  s = ft_money_format (-100005, "GBP"); ck_assert_str_eq (s, "-1000.05 GBP"); g_free (s);
  s = ft_money_format (G_MININT64, "EUR");
  ck_assert_str_eq (s, "-92233720368547758.08 EUR"); g_free (s);
  s = ft_time_format (0); ck_assert_str_eq (s, "Mon 00:00:00"); g_free (s);
  s = ft_time_format (8 * FT_HOUR + 14 * FT_MINUTE + 5 * FT_SECOND + 999);
  ck_assert_str_eq (s, "Mon 08:14:05"); g_free (s);
  s = ft_time_format (FT_DAY * 6 + 23 * FT_HOUR); ck_assert_str_eq (s, "Sun 23:00:00"); g_free (s);
  s = ft_time_format (FT_DAY * 7 + FT_HOUR); ck_assert_str_eq (s, "Mon 01:00:00"); g_free (s);
  s = ft_time_format (-FT_SECOND); ck_assert_str_eq (s, "Sun 23:59:59"); g_free (s);
}
END_TEST

START_TEST (test_uuid)
{
  char u[37], u2[37];

  ft_uuid_from_words (0, 0, u);
  ck_assert_str_eq (u, "00000000-0000-4000-8000-000000000000");
  ft_uuid_from_words (G_MAXUINT64, G_MAXUINT64, u);
  ck_assert_str_eq (u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
  ck_assert (ft_uuid_valid (u));
  ft_uuid_from_words (G_GUINT64_CONSTANT (0x0123456789abcdef), G_GUINT64_CONSTANT (0xfedcba9876543210), u);
  ck_assert_str_eq (u, "01234567-89ab-4def-bedc-ba9876543210");
  ft_uuid_from_words (ft_mix64 (1), ft_mix64 (2), u);
  ft_uuid_from_words (ft_mix64 (1), ft_mix64 (2), u2);
  ck_assert_str_eq (u, u2);
  ck_assert_int_eq (u[14], '4');
  ck_assert (strchr ("89ab", u[19]) != NULL);
  ck_assert (!ft_uuid_valid (NULL));
  ck_assert (!ft_uuid_valid ("not-a-uuid"));
  ck_assert (!ft_uuid_valid ("00000000-0000-4000-8000-00000000000g"));
  ck_assert (!ft_uuid_valid ("00000000-0000-4000-8000+000000000000"));
}
END_TEST

START_TEST (test_mix_hash)
{
  ck_assert_uint_ne (ft_mix64 (0), ft_mix64 (1));
  ck_assert_uint_eq (ft_mix64 (0), G_GUINT64_CONSTANT (0xe220a8397b1dcdaf));   /* splitmix64 reference */
  ck_assert_uint_eq (ft_hash_string64 ("riders"), ft_hash_string64 ("riders"));
  ck_assert_uint_ne (ft_hash_string64 ("riders"), ft_hash_string64 ("rider"));
  ck_assert_uint_ne (ft_hash_string64 (""), ft_hash_string64 (NULL) + 1);
}
END_TEST

/* FNV-1a a byte at a time, as ft_hash_string64 once looped */
static guint64
plain_fnv1a (const char *s)
{
  guint64 h = G_GUINT64_CONSTANT (0xcbf29ce484222325);
  for (; *s; s++)
    {
      h ^= (guint8) *s;
      h *= G_GUINT64_CONSTANT (0x100000001b3);
    }
  return h;
}

/* ft_hash_string64 takes four bytes to a loop step: the published FNV-1a
 * vectors, then random strings of every length to 80 (all byte values but
 * the terminator), against the plain loop. */
START_TEST (test_hash_string_matches_plain)
{
  ck_assert_uint_eq (plain_fnv1a (""), G_GUINT64_CONSTANT (0xcbf29ce484222325));
  ck_assert_uint_eq (plain_fnv1a ("a"), G_GUINT64_CONSTANT (0xaf63dc4c8601ec8c));
  ck_assert_uint_eq (plain_fnv1a ("foobar"), G_GUINT64_CONSTANT (0x85944171f73967e8));
  ck_assert_uint_eq (ft_hash_string64 ("foobar"), ft_mix64 (G_GUINT64_CONSTANT (0x85944171f73967e8)));
  GRand *r = g_rand_new_with_seed (64);
  char buf[81];
  for (int trial = 0; trial < 20000; trial++)
    {
      int len = trial < 81 * 10 ? trial % 81 : g_rand_int_range (r, 0, 81);
      for (int i = 0; i < len; i++)
        buf[i] = (char) g_rand_int_range (r, 1, 256);
      buf[len] = '\0';
      ck_assert_uint_eq (ft_hash_string64 (buf), ft_mix64 (plain_fnv1a (buf)));
    }
  g_rand_free (r);
}
END_TEST

typedef struct { int calls; guint64 last_seq; } Seen;

static void
on_event (const FtEvent *ev, gpointer user_data)
{
  Seen *s = user_data;
  s->calls++;
  s->last_seq = ev->seq;
}

START_TEST (test_event_log)
{
  FtEventLog *log = ft_event_log_new ();
  FtEvent e = ft_event_init (FT_EV_VEHICLE_STATE, 1000);
  const FtEvent *p;
  Seen seen = { 0, 0 };
  guint n, id, i;

  ck_assert_int_eq (e.vehicle, -1);
  ck_assert_int_eq (e.account, -1);
  ck_assert_int_eq (e.ref, -1);
  ck_assert_uint_eq (ft_event_log_append (NULL, &e), 0);
  ck_assert_uint_eq (ft_event_log_last_seq (log), 0);
  id = ft_event_log_add_listener (log, on_event, &seen);
  for (i = 0; i < 1000; i++)
    {
      e.vehicle = (gint32) i;
      ck_assert_uint_eq (ft_event_log_append (log, &e), i + 1);
    }
  ck_assert_int_eq (seen.calls, 1000);
  ck_assert_uint_eq (seen.last_seq, 1000);
  p = ft_event_log_pending (log, &n);
  ck_assert_uint_eq (n, 1000);
  ck_assert_int_eq (p[999].vehicle, 999);
  ck_assert_uint_eq (p[0].seq, 1);
  ck_assert_uint_eq (ft_event_log_count (log, FT_EV_VEHICLE_STATE), 1000);
  ft_event_log_drain (log);
  ck_assert_uint_eq (ft_event_log_n_pending (log), 0);
  ck_assert_uint_eq (ft_event_log_count (log, FT_EV_VEHICLE_STATE), 1000);
  ft_event_log_remove_listener (log, id);
  e = ft_event_init (FT_EV_LEDGER_TX, 2000);
  ck_assert_uint_eq (ft_event_log_append (log, &e), 1001);
  ck_assert_int_eq (seen.calls, 1000);
  /* retain off: counts but keeps nothing */
  ft_event_log_set_retain (log, FALSE);
  ft_event_log_append (log, &e);
  ck_assert_uint_eq (ft_event_log_n_pending (log), 0);
  ck_assert_uint_eq (ft_event_log_count (log, FT_EV_LEDGER_TX), 2);
  ft_event_log_set_retain (log, TRUE);
  ft_event_log_set_next_seq (log, 5000);
  ck_assert_uint_eq (ft_event_log_append (log, &e), 5000);
  ck_assert_uint_eq (ft_event_log_last_seq (log), 5000);
  ck_assert_str_eq (ft_event_kind_name (FT_EV_BOOKING_ENDED), "booking_ended");
  ck_assert_str_eq (ft_event_kind_name (FT_EV_RIDER_LOST), "rider_lost");
  ck_assert_str_eq (ft_event_kind_name (FT_EV_N_KINDS), "unknown");
  for (i = 0; i < FT_EV_N_KINDS; i++)
    ck_assert_str_ne (ft_event_kind_name (i), "unknown");
  ft_event_log_free (log);
}
END_TEST

typedef struct {
  FtEventLog *log;
  guint self_id;
  int calls_a, calls_b;
} Reentrant;

static void
once_then_remove (const FtEvent *ev, gpointer user_data)
{
  Reentrant *r = user_data;
  r->calls_a++;
  ft_event_log_remove_listener (r->log, r->self_id);
}

static void
count_b (const FtEvent *ev, gpointer user_data)
{
  ((Reentrant *) user_data)->calls_b++;
}

START_TEST (test_listener_removes_itself)
{
  FtEventLog *log = ft_event_log_new ();
  Reentrant r = { log, 0, 0, 0 };
  FtEvent e = ft_event_init (FT_EV_TASK_DONE, 0);

  r.self_id = ft_event_log_add_listener (log, once_then_remove, &r);
  ft_event_log_add_listener (log, count_b, &r);
  ft_event_log_append (log, &e);
  ft_event_log_append (log, &e);
  ck_assert_int_eq (r.calls_a, 1);
  ck_assert_int_eq (r.calls_b, 2);   /* the listener after it is not skipped */
  ft_event_log_remove_listener (log, 12345);   /* unknown id: no-op */
  ft_event_log_free (log);
}
END_TEST

static void
add_b_then_remove (const FtEvent *ev, gpointer user_data)
{
  Reentrant *r = user_data;
  r->calls_a++;
  if (r->calls_a == 1)
    ft_event_log_add_listener (r->log, count_b, r);
  else
    ft_event_log_remove_listener (r->log, r->self_id);
}

/* A lone listener (the log's fast path) may add a listener, which is
 * called for the same event as in a loop over several, and remove
 * itself. */
START_TEST (test_lone_listener_changes_listeners)
{
  FtEventLog *log = ft_event_log_new ();
  ft_event_log_set_retain (log, FALSE);
  Reentrant r = { log, 0, 0, 0 };
  FtEvent e = ft_event_init (FT_EV_TASK_DONE, 0);

  r.self_id = ft_event_log_add_listener (log, add_b_then_remove, &r);
  ft_event_log_append (log, &e);
  ck_assert_int_eq (r.calls_a, 1);
  ck_assert_int_eq (r.calls_b, 1);   /* added while called: called for this event too */
  ft_event_log_append (log, &e);
  ck_assert_int_eq (r.calls_a, 2);   /* removed itself */
  ck_assert_int_eq (r.calls_b, 2);
  ft_event_log_append (log, &e);
  ft_event_log_append (log, &e);
  ck_assert_int_eq (r.calls_a, 2);
  ck_assert_int_eq (r.calls_b, 4);   /* the one left, alone */
  ft_event_log_free (log);
}
END_TEST

/* A listener that names its kinds is called for those only, in the same
 * order among the others. */
START_TEST (test_listener_for_kinds)
{
  FtEventLog *log = ft_event_log_new ();
  Reentrant r = { log, 0, 0, 0 };
  ft_event_log_add_listener_for (log, FT_EV_BIT (FT_EV_TASK_DONE) | FT_EV_BIT (FT_EV_RIDER_LOST), count_b, &r);
  static const FtEventKind kinds[] = { FT_EV_TASK_DONE, FT_EV_VEHICLE_STATE, FT_EV_RIDER_LOST, FT_EV_BOOKING_ENDED,
                                       FT_EV_TASK_DONE };
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      FtEvent e = ft_event_init (kinds[i], (FtTime) i);
      ft_event_log_append (log, &e);
    }
  ck_assert_int_eq (r.calls_b, 3);
  /* every kind, as ft_event_log_add_listener */
  r.calls_b = 0;
  ft_event_log_add_listener_for (log, G_MAXUINT64, count_b, &r);
  FtEvent e = ft_event_init (FT_EV_VEHICLE_STATE, 9);
  ft_event_log_append (log, &e);
  ck_assert_int_eq (r.calls_b, 1);
  ft_event_log_free (log);
}
END_TEST

/* A tap copies the events of its kinds, seq stamped, into the caller's
 * buffer, with or without the log keeping events and beside listeners;
 * a full buffer calls back for another; one tap per log. */
typedef struct {
  FtEventLog *log;
  FtEvent     bufs[2][3];
  guint       fulls;
} Tap;

static void
tap_full (gpointer data)
{
  Tap *t = data;
  t->fulls++;
  ck_assert_uint_eq (ft_event_log_tap_swap (t->log, t->bufs[t->fulls % 2], 3), 3);
}

START_TEST (test_event_tap)
{
  for (guint retain = 0; retain < 2; retain++)
    {
      FtEventLog *log = ft_event_log_new ();
      ft_event_log_set_retain (log, retain);
      Tap t = { .log = log };
      Reentrant r = { log, 0, 0, 0 };
      ft_event_log_add_listener_for (log, FT_EV_BIT (FT_EV_RIDER_LOST), count_b, &r);
      ck_assert (ft_event_log_set_tap (log, FT_EV_BIT (FT_EV_TASK_DONE) | FT_EV_BIT (FT_EV_RIDER_LOST), t.bufs[0], 3,
                                       tap_full, &t));
      ck_assert (!ft_event_log_set_tap (log, FT_EV_BIT (FT_EV_TASK_DONE), t.bufs[1], 3, tap_full, &t));
      for (guint i = 0; i < 10; i++)
        {
          FtEvent e = ft_event_init (i % 3 == 0 ? FT_EV_TASK_DONE : i % 3 == 1 ? FT_EV_RIDER_LOST : FT_EV_VEHICLE_STATE,
                                     (FtTime) i);
          e.a = (gint32) i;
          ft_event_log_append (log, &e);
        }
      /* TASK_DONE 0 3 6 9, RIDER_LOST 1 4 7: 0 1 3 | 4 6 7 | 9 */
      ck_assert_uint_eq (t.fulls, 2);
      ck_assert_int_eq (t.bufs[1][0].a, 4);
      ck_assert_int_eq (t.bufs[1][2].a, 7);
      ck_assert_uint_eq (t.bufs[1][2].seq, 8);
      ck_assert_int_eq (t.bufs[0][0].a, 9);   /* the third buffer is the first again */
      ck_assert_uint_eq (t.bufs[0][0].seq, 10);
      ck_assert_uint_eq (ft_event_log_tap_swap (log, t.bufs[1], 3), 1);
      ck_assert_int_eq (r.calls_b, 3);        /* the listener is still called */
      ck_assert_uint_eq (ft_event_log_n_pending (log), retain ? 10 : 0);
      ck_assert_uint_eq (ft_event_log_count (log, FT_EV_VEHICLE_STATE), 3);
      /* removed: nothing more is copied */
      ck_assert (ft_event_log_set_tap (log, 0, NULL, 0, NULL, NULL));
      FtEvent e = ft_event_init (FT_EV_TASK_DONE, 11);
      ft_event_log_append (log, &e);
      ck_assert_uint_eq (t.fulls, 2);
      ck_assert_uint_eq (ft_event_log_count (log, FT_EV_TASK_DONE), 5);
      ft_event_log_free (log);
    }
}
END_TEST

/* ft_mem_advise_huge is a hint: contents stay, the usable size comes
 * back, and where the kernel offers transparent huge pages only on request
 * ("madvise"), the block's 2 MiB-aligned interior becomes eligible. */
START_TEST (test_advise_huge)
{
  const gsize n = 16u << 20;
  guint8 *p = g_malloc (n);
  memset (p, 0xab, n);
  gsize usable = ft_mem_advise_huge (p);
  ck_assert_uint_ge (usable, n);
  for (gsize i = 0; i < n; i += 4093)
    ck_assert_uint_eq (p[i], 0xab);
  gsize advised = 0;
  ft_mem_hint_huge (p, 100, &advised);
  ck_assert_uint_eq (advised, usable);
  advised = 1;
  ft_mem_hint_huge (p, 1, &advised);     /* not outgrown: not asked again */
  ck_assert_uint_eq (advised, 1);
  ck_assert_uint_eq (ft_mem_advise_huge (NULL), 0);

  g_autofree char *mode = NULL;
  g_autofree char *smaps = NULL;
  if (!g_file_get_contents ("/sys/kernel/mm/transparent_hugepage/enabled", &mode, NULL, NULL)
      || strstr (mode, "[madvise]") == NULL
      || !g_file_get_contents ("/proc/self/smaps", &smaps, NULL, NULL)
      || strstr (smaps, "THPeligible:") == NULL)
    {
      g_print ("advise-huge: huge pages are not in madvise mode here; eligibility not checked\n");
      g_free (p);
      return;
    }
  guintptr lo = ((guintptr) p + (2u << 20) - 1) & ~(guintptr) ((2u << 20) - 1);
  gboolean found = FALSE;
  g_auto (GStrv) lines = g_strsplit (smaps, "\n", -1);
  for (guint i = 0; lines[i] != NULL && !found; i++)
    {
      guint64 a, b;
      if (sscanf (lines[i], "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x ", &a, &b) != 2
          || !(a <= lo && lo < b))
        continue;
      for (guint j = i + 1; lines[j] != NULL; j++)
        if (g_str_has_prefix (lines[j], "THPeligible:"))
          {
            ck_assert_msg (strchr (lines[j], '1') != NULL, "not eligible: %s", lines[j]);
            found = TRUE;
            break;
          }
    }
  ck_assert_msg (found, "no mapping holds the block at %p", (void *) p);
  g_free (p);
}
END_TEST

/* found by tests/fuzz: GLib 2.74 sets its GError twice on two bad escapes */
START_TEST (test_key_file_string)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  ck_assert (g_key_file_load_from_data (kf, "[g]\nok=a\\sb\\\\c\\td\nbad=x\\*\\q\nlone=x\\\n"
                                        "nul=x\\\001y\n", -1, 0, NULL));
  g_autoptr(GError) e = NULL;
  g_autofree char *ok = ft_key_file_get_string (kf, "g", "ok", &e);
  ck_assert_ptr_null (e);
  ck_assert_str_eq (ok, "a b\\c\td");
  ck_assert_ptr_null (ft_key_file_get_string (kf, "g", "absent", &e));
  ck_assert_ptr_null (e);
  ck_assert_ptr_null (ft_key_file_get_string (kf, "nogroup", "ok", &e));
  ck_assert_ptr_null (e);
  ck_assert_ptr_null (ft_key_file_get_string (kf, "g", "bad", &e));
  ck_assert_msg (e != NULL && strstr (e->message, "bad escape \"\\*\" at byte 1"), "%s", e ? e->message : "");
  g_clear_error (&e);
  ck_assert_ptr_null (ft_key_file_get_string (kf, "g", "lone", &e));
  ck_assert_msg (e != NULL && strstr (e->message, "lone"), "%s", e ? e->message : "");
  g_clear_error (&e);
  ck_assert_ptr_null (ft_key_file_get_string (kf, "g", "nul", &e));
  ck_assert_msg (e != NULL && strstr (e->message, "\\x01"), "%s", e ? e->message : "");
}
END_TEST

static Suite *
common_suite (void)
{
  Suite *s = suite_create ("common");
  TCase *tc;

  tc = tcase_create ("distance"); tcase_add_test (tc, test_distance); tcase_add_test (tc, test_latlon_valid);
  tcase_add_test (tc, test_distance_from_matches_plain); suite_add_tcase (s, tc);
  tc = tcase_create ("format"); tcase_add_test (tc, test_money_time); suite_add_tcase (s, tc);
  tc = tcase_create ("key-file"); tcase_add_test (tc, test_key_file_string); suite_add_tcase (s, tc);
  tc = tcase_create ("advise-huge"); tcase_add_test (tc, test_advise_huge); suite_add_tcase (s, tc);
  tc = tcase_create ("ids"); tcase_add_test (tc, test_uuid); tcase_add_test (tc, test_mix_hash);
  tcase_add_test (tc, test_hash_string_matches_plain); suite_add_tcase (s, tc);
  tc = tcase_create ("event-log"); tcase_add_test (tc, test_event_log); tcase_add_test (tc, test_listener_removes_itself);
  tcase_add_test (tc, test_lone_listener_changes_listeners);
  tcase_add_test (tc, test_listener_for_kinds); tcase_add_test (tc, test_event_tap); suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (common_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}

/* test-assist.c — Check tests for src/assist through a real FtCore in the
 * made-up town (tests/support/test-town.c): the classifier on plain cases;
 * grounded answers (an explained charge equals the receipt to the cent,
 * find_vehicle names the real nearest vehicles, cannot_end_ride names the
 * geofence and a place where ending is legal); actions only after "yes",
 * through the modules (ending a ride, a refund request on the hand-off
 * queue, no money moved); bad input (empty, enormous, non-UTF-8, unknown
 * or erased rider) answered or refused with nothing changed; and the
 * hand-off queue in a store file, closed only by a dispatcher.
 */
#include <check.h>
#include <string.h>
#include <stdio.h>
#include <glib/gstdio.h>

#include "ft-assist.h"
#include "ft-assist-text.h"
#include "test-town.h"
#include <math.h>

#define T0 (8 * FT_HOUR)

typedef struct {
  FtCore   *core;
  FtAssist *a;
  guint     v[4];        /* 0,1 scooters near the centre; 2 bike; 3 scooter ridden by r0 */
  guint     r0, r1, staff, dispatcher, erased;
  gint64    past;        /* r0's ended trip */
  gint64    open;        /* r0's trip in progress on v[3], stopped inside the Park */
} Fx;

static Fx fx;

static guint
account (const char *name, guint32 roles)
{
  g_autoptr(GError) err = NULL;
  g_autofree char *email = g_strdup_printf ("%s@example.org", name);
  gint i = ft_accounts_create (fx.core->accounts, roles, name, email, T0, &err);
  ck_assert_msg (i >= 0, "create: %s", err ? err->message : "");
  return (guint) i;
}

static void
pack (guint v, double soc)
{
  g_autoptr(GError) err = NULL;
  const FtVehicleType *ty = ft_vehicle_type_default (ft_fleet_get_vehicle (fx.core->fleet, v)->kind);
  ft_fleet_add_pack (fx.core->fleet, ty->pack_capacity_wh, soc, FT_PACK_IN_VEHICLE, (gint32) v, T0, &err);
  ck_assert_msg (err == NULL, "pack: %s", err ? err->message : "");
}

static void
setup (void)
{
  FtCoreConfig cfg;
  FtBBox bb;
  g_autoptr(GError) err = NULL;
  FtPriceBreakdown price;

  ft_core_config_init (&cfg);
  cfg.seed = 11;
  cfg.card_decline_rate = 0;
  fx.core = ft_core_new (&cfg, test_town_geofences (100), NULL);
  ft_bbox_init_empty (&bb);
  ft_bbox_extend (&bb, test_town_at (-1500, -1500));
  ft_bbox_extend (&bb, test_town_at (1500, 1500));
  ft_fleet_enable_index (fx.core->fleet, bb, 100);
  fx.v[0] = ft_fleet_add_vehicle (fx.core->fleet, FT_KIND_SCOOTER, test_town_at (50, 0), NULL, T0);
  fx.v[1] = ft_fleet_add_vehicle (fx.core->fleet, FT_KIND_SCOOTER, test_town_at (-120, 30), NULL, T0);
  fx.v[2] = ft_fleet_add_vehicle (fx.core->fleet, FT_KIND_BIKE, test_town_at (0, 200), NULL, T0);
  fx.v[3] = ft_fleet_add_vehicle (fx.core->fleet, FT_KIND_SCOOTER, test_town_at (20, -20), NULL, T0);
  pack (fx.v[0], 0.9);
  pack (fx.v[1], 0.4);
  pack (fx.v[2], 0.8);
  pack (fx.v[3], 0.9);
  fx.r0 = account ("ana", FT_ROLE_RIDER);
  fx.r1 = account ("ben", FT_ROLE_RIDER);
  fx.staff = account ("sam", FT_ROLE_FIELD);
  fx.dispatcher = account ("dora", FT_ROLE_DISPATCHER);
  fx.erased = account ("eve", FT_ROLE_RIDER);
  ck_assert (ft_accounts_erase (fx.core->accounts, fx.erased, fx.erased, T0, &err));
  ck_assert (ft_payments_topup (fx.core->payments, fx.r0, 5000, "t0", T0, &err) >= 0);
  ck_assert (ft_payments_topup (fx.core->payments, fx.r1, 5000, "t1", T0, &err) >= 0);

  /* r0: a 13-minute trip on v3, 1.7 km, ended legally at (300, 300) */
  fx.past = ft_booking_start (fx.core->booking, fx.r0, fx.v[3], T0, &err);
  ck_assert_msg (fx.past >= 0, "start: %s", err ? err->message : "");
  ck_assert_msg (ft_booking_end (fx.core->booking, fx.past, fx.r0, test_town_at (300, 300), 1700.0,
                                 T0 + 13 * FT_MINUTE + 20 * FT_SECOND, &price, &err),
                 "end: %s", err ? err->message : "");
  /* then a ride on v3 that stops inside the Park (no parking) */
  fx.open = ft_booking_start (fx.core->booking, fx.r0, fx.v[3], T0 + FT_HOUR, &err);
  ck_assert_msg (fx.open >= 0, "start: %s", err ? err->message : "");
  ft_fleet_set_position (fx.core->fleet, fx.v[3], test_town_at (410, 20), 300.0, T0 + FT_HOUR + 5 * FT_MINUTE, FALSE);

  fx.a = ft_assist_new (fx.core, NULL, &err);
  ck_assert_msg (fx.a != NULL, "assist: %s", err ? err->message : "");
}

static void
teardown (void)
{
  ft_assist_free (fx.a);
  ft_core_free (fx.core);
  memset (&fx, 0, sizeof fx);
}

static FtAssistReply *
ask (guint rider, const char *text, const FtLatLon *where, FtTime now)
{
  g_autoptr(GError) err = NULL;
  FtAssistReply *r = ft_assist_ask (fx.a, rider, text, -1, where, now, &err);
  ck_assert_msg (r != NULL, "ask '%s': %s", text, err ? err->message : "");
  ck_assert (g_utf8_validate (r->text, -1, NULL) && *r->text);
  return r;
}

static const char *
vname (guint v)
{
  return ft_fleet_get_vehicle (fx.core->fleet, v)->name;
}

START_TEST (t_classify)
{
  static const struct { const char *text; const char *intent; } cases[] = {
    { "where is the nearest scooter", "find_vehicle" },
    { "why was I charged 4.20 for my ride", "explain_charge" },
    { "I can't end my ride here", "cannot_end_ride" },
    { "the scooter won't unlock", "unlock_failed" },
    { "let me speak to a human", "human_agent" },
    { "", "out_of_scope" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      double conf = -1, probs[FT_N_INTENTS], sum = 0;
      FtIntent in = ft_intent_classify (cases[i].text, strlen (cases[i].text), &conf, probs);
      ck_assert_msg (strcmp (ft_intent_name (in), cases[i].intent) == 0, "'%s' -> %s, want %s",
                     cases[i].text, ft_intent_name (in), cases[i].intent);
      ck_assert (conf > 0 && conf <= 1.0);
      for (guint c = 0; c < FT_N_INTENTS; c++)
        sum += probs[c];
      ck_assert (fabs (sum - 1.0) < 1e-9);
    }
  /* every intent name round-trips */
  for (guint c = 0; c < FT_N_INTENTS; c++)
    {
      FtIntent back;
      ck_assert (ft_intent_from_name (ft_intent_name (c), &back) && back == c);
    }
}
END_TEST

START_TEST (t_explain_charge_equals_receipt)
{
  const FtBookingRec *b = ft_booking_get (fx.core->booking, fx.past);
  gint64 captured = ft_payments_captured (fx.core->payments, fx.past);
  g_autofree char *want = ft_money_format (b->price_minor, "EUR");
  g_autoptr(FtAssistReply) r = ask (fx.r0, "why did my last trip cost so much?", NULL, T0 + 2 * FT_HOUR);

  ck_assert_int_eq (r->intent, FT_INTENT_EXPLAIN_CHARGE);
  ck_assert_int_eq (captured, b->price_minor);
  ck_assert_int_gt (b->price_minor, 0);
  ck_assert_msg (strstr (r->text, want) != NULL, "'%s' lacks the receipt %s", r->text, want);
  ck_assert_msg (strstr (r->text, vname (fx.v[3])) != NULL, "%s", r->text);
  /* the breakdown shown adds up to the receipt, to the cent */
  const char *u = strstr (r->text, "unlock ");
  ck_assert_msg (u != NULL, "no breakdown in '%s'", r->text);
  double unlock = 0, tm = 0, dist = 0;
  ck_assert_int_eq (sscanf (u, "unlock %lf EUR + time %lf EUR + distance %lf EUR", &unlock, &tm, &dist), 3);
  ck_assert_int_eq ((gint64) llround ((unlock + tm + dist) * 100), b->price_minor);
  ck_assert (r->resolved);

  /* after a partial refund the answer says what was paid in the end */
  g_autoptr(GError) err = NULL;
  ck_assert (ft_payments_refund (fx.core->payments, fx.r0, fx.past, 50, "rf", T0 + FT_HOUR, &err) >= 0);
  g_autoptr(FtAssistReply) r2 = ask (fx.r0, "explain my last charge", NULL, T0 + 2 * FT_HOUR);
  g_autofree char *paid = ft_money_format (b->price_minor - 50, "EUR");
  ck_assert_msg (strstr (r2->text, paid) != NULL, "'%s' lacks %s", r2->text, paid);
}
END_TEST

START_TEST (t_find_vehicle_names_real_vehicles)
{
  FtLatLon here = test_town_at (0, 0);
  FtFindResult found[3];
  guint n = ft_booking_find (fx.core->booking, here, 500, 0, 0, found, 3);
  g_autoptr(FtAssistReply) r = ask (fx.r1, "where is the nearest scooter", &here, T0 + 2 * FT_HOUR);

  ck_assert_int_eq (r->intent, FT_INTENT_FIND_VEHICLE);
  ck_assert_uint_eq (n, 3);
  for (guint i = 0; i < n; i++)
    ck_assert_msg (strstr (r->text, vname (found[i].vehicle)) != NULL, "'%s' lacks %s", r->text,
                   vname (found[i].vehicle));
  /* the nearest is named first; the one on a trip is not named */
  ck_assert_ptr_eq (strstr (r->text, vname (found[0].vehicle)),
                    strstr (r->text, "FT-") ? strstr (r->text, vname (found[0].vehicle)) : NULL);
  ck_assert (strstr (r->text, vname (found[0].vehicle)) < strstr (r->text, vname (found[1].vehicle)));
  ck_assert_msg (strstr (r->text, vname (fx.v[3])) == NULL, "names the vehicle on a trip: %s", r->text);
}
END_TEST

START_TEST (t_cannot_end_ride_names_zone_and_legal_place)
{
  g_autoptr(FtAssistReply) r = ask (fx.r0, "I can't end my ride, it says parking not allowed", NULL,
                                    T0 + FT_HOUR + 6 * FT_MINUTE);
  FtLatLon p;
  int zone = -2;

  ck_assert_int_eq (r->intent, FT_INTENT_CANNOT_END_RIDE);
  ck_assert_msg (strstr (r->text, "Park") != NULL, "no zone named: %s", r->text);
  ck_assert_int_eq (r->pending, FT_ASSIST_ACTION_NONE);
  /* the place offered is one where ending is allowed, and close */
  const char *paren = strrchr (r->text, '(');
  ck_assert_msg (paren && sscanf (paren, "(%lf, %lf)", &p.lat, &p.lon) == 2, "no place in '%s'", r->text);
  FtZoneRules rules = ft_geofences_rules_at (fx.core->geofences, p, FT_KIND_SCOOTER, &zone);
  ck_assert_msg (rules.ride_end_allowed, "offered an illegal place: %s", r->text);
  double d = ft_distance_m (ft_fleet_get_vehicle (fx.core->fleet, fx.v[3])->pos, p);
  ck_assert_msg (d < 150, "legal place %.0f m away", d);
  /* the answer itself changed nothing: the ride goes on */
  ck_assert_int_eq (ft_booking_get (fx.core->booking, fx.open)->state, FT_BK_ACTIVE);
}
END_TEST

START_TEST (t_end_ride_after_yes_only)
{
  FtTime t = T0 + FT_HOUR + 10 * FT_MINUTE;
  ft_fleet_set_position (fx.core->fleet, fx.v[3], test_town_at (200, 0), 200.0, t, FALSE);
  g_autoptr(FtAssistReply) r = ask (fx.r0, "please end my ride", NULL, t);
  ck_assert_int_eq (r->pending, FT_ASSIST_ACTION_END_RIDE);
  ck_assert_int_eq (ft_booking_get (fx.core->booking, fx.open)->state, FT_BK_ACTIVE);

  /* "no" drops it */
  g_autoptr(FtAssistReply) no = ask (fx.r0, "no", NULL, t + FT_SECOND);
  ck_assert_int_eq (no->done, FT_ASSIST_ACTION_NONE);
  ck_assert_int_eq (ft_booking_get (fx.core->booking, fx.open)->state, FT_BK_ACTIVE);
  /* a "yes" with nothing pending does nothing */
  g_autoptr(FtAssistReply) stray = ask (fx.r0, "yes", NULL, t + 2 * FT_SECOND);
  ck_assert_int_eq (stray->done, FT_ASSIST_ACTION_NONE);
  ck_assert_int_eq (ft_booking_get (fx.core->booking, fx.open)->state, FT_BK_ACTIVE);

  g_autoptr(FtAssistReply) again = ask (fx.r0, "end my trip now", NULL, t + 3 * FT_SECOND);
  ck_assert_int_eq (again->pending, FT_ASSIST_ACTION_END_RIDE);
  /* an expired offer is not carried out */
  g_autoptr(FtAssistReply) late = ask (fx.r0, "yes", NULL, t + 3 * FT_SECOND + 6 * FT_MINUTE);
  ck_assert_int_eq (late->done, FT_ASSIST_ACTION_NONE);
  ck_assert_int_eq (ft_booking_get (fx.core->booking, fx.open)->state, FT_BK_ACTIVE);

  g_autoptr(FtAssistReply) third = ask (fx.r0, "end my trip now", NULL, t + 7 * FT_MINUTE);
  g_autoptr(FtAssistReply) yes = ask (fx.r0, "Yes", NULL, t + 7 * FT_MINUTE + 5 * FT_SECOND);
  ck_assert_int_eq (yes->done, FT_ASSIST_ACTION_END_RIDE);
  const FtBookingRec *b = ft_booking_get (fx.core->booking, fx.open);
  ck_assert_int_eq (b->state, FT_BK_ENDED);
  g_autofree char *charged = ft_money_format (b->price_minor, "EUR");
  ck_assert_msg (strstr (yes->text, charged) != NULL, "'%s' lacks %s", yes->text, charged);
  g_autoptr(GError) err = NULL;
  ck_assert_msg (ft_core_check (fx.core, &err), "%s", err ? err->message : "");
}
END_TEST

START_TEST (t_refund_request_goes_to_staff)
{
  gint64 captured = ft_payments_captured (fx.core->payments, fx.past);
  gint64 wallet = ft_payments_wallet (fx.core->payments, fx.r0);
  g_autoptr(FtAssistReply) r = ask (fx.r0, "I want a refund for my last trip", NULL, T0 + 2 * FT_HOUR);
  ck_assert_int_eq (r->intent, FT_INTENT_REFUND_REQUEST);
  ck_assert_int_eq (r->pending, FT_ASSIST_ACTION_REFUND_REQUEST);
  g_autoptr(FtAssistReply) yes = ask (fx.r0, "yes please", NULL, T0 + 2 * FT_HOUR + FT_MINUTE);
  ck_assert_int_eq (yes->done, FT_ASSIST_ACTION_REFUND_REQUEST);
  ck_assert_int_ge (yes->handoff, 0);
  g_autoptr(GPtrArray) q = ft_assist_list_handoffs (fx.a, TRUE);
  ck_assert_uint_eq (q->len, 1);
  const FtAssistHandoff *h = q->pdata[0];
  ck_assert_int_eq (h->amount_minor, captured);
  ck_assert_int_eq (h->booking, fx.past);
  ck_assert_uint_eq (h->rider, fx.r0);
  /* a request moves no money: staff decide */
  ck_assert_int_eq (ft_payments_captured (fx.core->payments, fx.past), captured);
  ck_assert_int_eq (ft_payments_wallet (fx.core->payments, fx.r0), wallet);
  /* a rider or field staff cannot close it; a dispatcher can */
  g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;
  ck_assert (!ft_assist_close_handoff (fx.a, h->id, fx.r0, T0 + 3 * FT_HOUR, &e1));
  ck_assert (!ft_assist_close_handoff (fx.a, h->id, fx.staff, T0 + 3 * FT_HOUR, &e2));
  ck_assert (ft_assist_close_handoff (fx.a, h->id, fx.dispatcher, T0 + 3 * FT_HOUR, &e3));
  g_autoptr(GPtrArray) q2 = ft_assist_list_handoffs (fx.a, TRUE);
  ck_assert_uint_eq (q2->len, 0);
}
END_TEST

START_TEST (t_bad_input)
{
  guint nb = ft_booking_n (fx.core->booking), ntx = ft_ledger_n_tx (fx.core->ledger);
  g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL, e5 = NULL;
  g_autofree char *huge = g_malloc (FT_ASSIST_MAX_MESSAGE + 2);
  memset (huge, 'a', FT_ASSIST_MAX_MESSAGE + 1);
  huge[FT_ASSIST_MAX_MESSAGE + 1] = '\0';

  g_autoptr(FtAssistReply) empty = ask (fx.r0, "", NULL, T0 + 2 * FT_HOUR);
  ck_assert_int_eq (empty->intent, FT_INTENT_OUT_OF_SCOPE);
  ck_assert (strstr (empty->text, "empty") != NULL);
  g_autoptr(FtAssistReply) blank = ask (fx.r0, " \t ", NULL, T0 + 2 * FT_HOUR);
  ck_assert (strstr (blank->text, "empty") != NULL);

  ck_assert (ft_assist_ask (fx.a, fx.r0, huge, -1, NULL, T0, &e1) == NULL);
  ck_assert (g_error_matches (e1, FT_ASSIST_ERROR, FT_ASSIST_ERROR_INVALID) && strstr (e1->message, "too long"));
  /* exactly at the bound is answered */
  huge[FT_ASSIST_MAX_MESSAGE] = '\0';
  g_autoptr(FtAssistReply) at_bound = ask (fx.r0, huge, NULL, T0 + 2 * FT_HOUR);

  ck_assert (ft_assist_ask (fx.a, fx.r0, "refund \xff\xfe me", -1, NULL, T0, &e2) == NULL);
  ck_assert (strstr (e2->message, "UTF-8") && strstr (e2->message, "byte 7"));
  /* an embedded NUL counts as text of the given length, and is refused as not UTF-8 */
  ck_assert (ft_assist_ask (fx.a, fx.r0, "ab\0cd", 5, NULL, T0, &e3) == NULL);
  ck_assert (ft_assist_ask (fx.a, 999, "hello", -1, NULL, T0, &e4) == NULL);
  ck_assert (strstr (e4->message, "999"));
  ck_assert (ft_assist_ask (fx.a, fx.erased, "delete my account", -1, NULL, T0, &e5) == NULL);
  ck_assert (strstr (e5->message, "erased"));

  ck_assert_uint_eq (ft_booking_n (fx.core->booking), nb);
  ck_assert_uint_eq (ft_ledger_n_tx (fx.core->ledger), ntx);
  g_autoptr(GPtrArray) q = ft_assist_list_handoffs (fx.a, FALSE);
  ck_assert_uint_eq (q->len, 0);
}
END_TEST

START_TEST (t_other_intents_grounded)
{
  FtTime t = T0 + 2 * FT_HOUR;
  g_autofree char *code = g_strdup (vname (fx.v[1]));
  g_autofree char *q1 = g_strdup_printf ("how much battery does %s have", code);
  g_autoptr(FtAssistReply) bat = ask (fx.r1, q1, NULL, t);
  ck_assert_int_eq (bat->intent, FT_INTENT_BATTERY_RANGE);
  ck_assert_msg (strstr (bat->text, code) && strstr (bat->text, "40%"), "%s", bat->text);

  g_autoptr(FtAssistReply) w = ask (fx.r1, "what's my wallet balance", NULL, t);
  g_autofree char *bal = ft_money_format (ft_payments_wallet (fx.core->payments, fx.r1), "EUR");
  ck_assert_msg (strstr (w->text, bal) != NULL, "%s", w->text);

  g_autoptr(FtAssistReply) top = ask (fx.r1, "add 20 euros to my wallet", NULL, t);
  ck_assert_int_eq (top->pending, FT_ASSIST_ACTION_TOPUP);
  gint64 before = ft_payments_wallet (fx.core->payments, fx.r1);
  g_autoptr(FtAssistReply) ok = ask (fx.r1, "ok", NULL, t + FT_SECOND);
  ck_assert_int_eq (ok->done, FT_ASSIST_ACTION_TOPUP);
  ck_assert_int_eq (ft_payments_wallet (fx.core->payments, fx.r1), before + 2000);

  g_autoptr(FtAssistReply) h = ask (fx.r1, "I want to talk to a person", NULL, t);
  ck_assert_int_eq (h->intent, FT_INTENT_HUMAN_AGENT);
  ck_assert_int_ge (h->handoff, 0);
  ck_assert (!h->resolved);

  guint64 m, res, hand;
  ft_assist_counts (fx.a, &m, &res, &hand);
  ck_assert_uint_eq (m, 5);
  ck_assert_uint_eq (hand, 1);
  ck_assert_uint_eq (res, 4);
}
END_TEST

START_TEST (t_unlock_failed_names_the_refusal)
{
  FtTime t = T0 + FT_HOUR + 20 * FT_MINUTE;
  g_autoptr(GError) err = NULL;
  /* ben tries to start the scooter ana is riding */
  ck_assert (ft_booking_start (fx.core->booking, fx.r1, fx.v[3], t, &err) < 0);
  g_autoptr(FtAssistReply) r = ask (fx.r1, "unlock failed, why?", NULL, t + FT_MINUTE);
  ck_assert_int_eq (r->intent, FT_INTENT_UNLOCK_FAILED);
  ck_assert_msg (strstr (r->text, vname (fx.v[3])) && strstr (r->text, "not available"), "%s", r->text);
  ck_assert (r->resolved && r->handoff < 0);
  /* an hour later the refusal is old news: the answer asks which vehicle */
  g_autoptr(FtAssistReply) later = ask (fx.r1, "unlock failed, why?", NULL, t + 2 * FT_HOUR);
  ck_assert_msg (strstr (later->text, "Which vehicle") != NULL, "%s", later->text);
}
END_TEST

typedef struct { guint vehicle; char *path; guint calls; } FakeCheck;

static gboolean
fake_check (guint vehicle, const char *photo_path, FtTime now, gint64 *review, const char **decision,
            gpointer user_data, GError **error)
{
  FakeCheck *f = user_data;
  f->calls++;
  f->vehicle = vehicle;
  g_free (f->path);
  f->path = g_strdup (photo_path);
  if (g_str_has_suffix (photo_path, "corrupt.jpg"))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "corrupt.jpg: not a JPEG");
      return FALSE;
    }
  *review = 7;
  *decision = "damaged";
  return TRUE;
}

START_TEST (t_damage_photo_goes_to_the_checker)
{
  FakeCheck f = { 0 };
  FtTime t = T0 + FT_HOUR + 8 * FT_MINUTE;
  g_autofree char *q = g_strdup_printf ("%s has a broken brake", vname (fx.v[0]));

  ft_assist_set_photo_check (fx.a, fake_check, &f);
  /* without a photo: a hand-off, the checker not called */
  {
    g_autoptr(FtAssistReply) r = ask (fx.r1, q, NULL, t);
    ck_assert_int_eq (r->pending, FT_ASSIST_ACTION_REPORT_DAMAGE);
    g_autoptr(FtAssistReply) y = ask (fx.r1, "yes", NULL, t + FT_SECOND);
    ck_assert_int_ge (y->handoff, 0);
    ck_assert_uint_eq (f.calls, 0);
  }
  /* with a photo: checked, queued for review there, no hand-off */
  ft_assist_attach_photo (fx.a, fx.r1, "/photos/brake.jpg");
  {
    g_autoptr(FtAssistReply) r = ask (fx.r1, q, NULL, t + FT_MINUTE);
    g_autoptr(FtAssistReply) y = ask (fx.r1, "yes", NULL, t + FT_MINUTE + FT_SECOND);
    ck_assert_uint_eq (f.calls, 1);
    ck_assert_uint_eq (f.vehicle, fx.v[0]);
    ck_assert_str_eq (f.path, "/photos/brake.jpg");
    ck_assert_int_eq (y->done, FT_ASSIST_ACTION_REPORT_DAMAGE);
    ck_assert_int_lt (y->handoff, 0);
    ck_assert_msg (strstr (y->text, "review 7") && strstr (y->text, "damaged"), "%s", y->text);
  }
  /* a photo that cannot be checked: said so, and staff get the report */
  ft_assist_attach_photo (fx.a, fx.r1, "/photos/corrupt.jpg");
  {
    g_autoptr(FtAssistReply) r = ask (fx.r1, q, NULL, t + 2 * FT_MINUTE);
    g_autoptr(FtAssistReply) y = ask (fx.r1, "yes", NULL, t + 2 * FT_MINUTE + FT_SECOND);
    ck_assert_uint_eq (f.calls, 2);
    ck_assert_int_ge (y->handoff, 0);
    ck_assert_msg (strstr (y->text, "not a JPEG") != NULL, "%s", y->text);
  }
  g_free (f.path);
}
END_TEST

START_TEST (t_handoffs_in_store)
{
  g_autofree char *dir = g_dir_make_tmp ("ft-assist-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "run.db", NULL);
  g_autoptr(GError) err = NULL;
  gint64 id;

  ck_assert_msg (ft_core_attach_store (fx.core, path, NULL, &err), "%s", err ? err->message : "");
  ft_assist_free (fx.a);
  fx.a = ft_assist_new (fx.core, NULL, &err);
  ck_assert_msg (fx.a, "%s", err ? err->message : "");
  {
    g_autoptr(FtAssistReply) r = ask (fx.r1, "connect me to customer service", NULL, T0 + 2 * FT_HOUR);
    id = r->handoff;
    ck_assert_int_ge (id, 0);
    /* a pending confirmation survives too */
    g_autoptr(FtAssistReply) p = ask (fx.r0, "I want a refund", NULL, T0 + 2 * FT_HOUR);
    ck_assert_int_eq (p->pending, FT_ASSIST_ACTION_REFUND_REQUEST);
  }
  ck_assert (ft_core_detach_store (fx.core, &err));
  teardown ();

  /* a fresh core on the same file sees the queue and the offer */
  {
    FtCoreConfig cfg;
    ft_core_config_init (&cfg);
    g_autoptr(FtCore) core = ft_core_new (&cfg, NULL, NULL);
    ck_assert_msg (ft_core_attach_store (core, path, NULL, &err), "%s", err ? err->message : "");
    g_autoptr(FtAssist) a = ft_assist_new (core, NULL, &err);
    g_autoptr(GPtrArray) q = ft_assist_list_handoffs (a, TRUE);
    ck_assert_uint_eq (q->len, 1);
    ck_assert_int_eq (((FtAssistHandoff *) q->pdata[0])->id, id);
    ck_assert_str_eq (((FtAssistHandoff *) q->pdata[0])->message, "connect me to customer service");
    g_autoptr(FtAssistReply) yes = ft_assist_ask (a, 0, "yes", -1, NULL, T0 + 2 * FT_HOUR + FT_MINUTE, &err);
    ck_assert_int_eq (yes->done, FT_ASSIST_ACTION_REFUND_REQUEST);
    g_autoptr(GPtrArray) q2 = ft_assist_list_handoffs (a, TRUE);
    ck_assert_uint_eq (q2->len, 2);
    ck_assert (ft_assist_close_handoff (a, id, 3, T0 + 3 * FT_HOUR, &err));
    g_autoptr(GPtrArray) q3 = ft_assist_list_handoffs (a, TRUE);
    ck_assert_uint_eq (q3->len, 1);
    ck_assert (ft_core_detach_store (core, &err));
  }
  ft_store_remove_files (path, NULL);
  g_rmdir (dir);
  setup ();   /* for the fixture's teardown */
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("assist");
  TCase *tc;
  struct { const char *name; const TTest *t; } tests[] = {
    { "classify", t_classify },
    { "explain-charge", t_explain_charge_equals_receipt },
    { "find-vehicle", t_find_vehicle_names_real_vehicles },
    { "cannot-end-ride", t_cannot_end_ride_names_zone_and_legal_place },
    { "end-ride-confirm", t_end_ride_after_yes_only },
    { "refund-request", t_refund_request_goes_to_staff },
    { "bad-input", t_bad_input },
    { "other-intents", t_other_intents_grounded },
    { "unlock-refusal", t_unlock_failed_names_the_refusal },
    { "damage-photo", t_damage_photo_goes_to_the_checker },
    { "handoffs-store", t_handoffs_in_store },
  };
  for (guint i = 0; i < G_N_ELEMENTS (tests); i++)
    {
      tc = tcase_create (tests[i].name);
      tcase_add_checked_fixture (tc, setup, teardown);
      tcase_add_test (tc, tests[i].t);
      suite_add_tcase (s, tc);
    }
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? 1 : 0;
}

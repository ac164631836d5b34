/* test-ops.c — the staff task queue (src/ops): a task's lifecycle and its
 * refusals, who may create, assign and cancel, restoring a queue from its
 * tasks (as the store does on load), and choosing the best open task,
 * globally and near a point with the grid index.
 */
#include "ft-config.h"
#include "ft-ops.h"

#include <check.h>
#include <string.h>

typedef struct {
  FtEventLog *log;
  FtFleet    *fleet;
  FtAccounts *acc;
  FtOps      *ops;
  gint        rider, field, field2, disp, admin;
} OpsFx;

static void
ops_fx_init (OpsFx *f)
{
  f->log = ft_event_log_new ();
  f->fleet = ft_fleet_new (1, f->log);
  f->acc = ft_accounts_new (1, f->log);
  FtLatLon p = { 52.5, 13.4 };
  for (int i = 0; i < 3; i++)
    ft_fleet_add_vehicle (f->fleet, FT_KIND_SCOOTER, ft_latlon_offset (p, i * 100.0, 0), NULL, 0);
  f->rider = ft_accounts_create (f->acc, FT_ROLE_RIDER, "R", NULL, 0, NULL);
  f->field = ft_accounts_create (f->acc, FT_ROLE_FIELD, "F", NULL, 0, NULL);
  f->field2 = ft_accounts_create (f->acc, FT_ROLE_FIELD, "F2", NULL, 0, NULL);
  f->disp = ft_accounts_create (f->acc, FT_ROLE_DISPATCHER, "D", NULL, 0, NULL);
  f->admin = ft_accounts_create (f->acc, FT_ROLE_ADMIN, "A", NULL, 0, NULL);
  f->ops = ft_ops_new (f->fleet, f->acc, f->log);
}

static void
ops_fx_clear (OpsFx *f)
{
  ft_ops_free (f->ops);
  ft_accounts_free (f->acc);
  ft_fleet_free (f->fleet);
  ft_event_log_free (f->log);
}

START_TEST (test_ops_lifecycle)
{
  OpsFx f;
  ops_fx_init (&f);
  FtLatLon z = { 0, 0 };
  g_autoptr (GError) e = NULL;
  gint64 t = ft_ops_create (f.ops, FT_TASK_BATTERY_SWAP, 1, z, -1, 5, -1, 100, &e);
  ck_assert_int_eq (t, 0);
  ck_assert_uint_eq (ft_event_log_count (f.log, FT_EV_TASK_CREATED), 1);
  ck_assert_int_eq (ft_ops_open_for (f.ops, 1, FT_TASK_BATTERY_SWAP), t);
  /* duplicate refused, state untouched */
  ck_assert_int_eq (ft_ops_create (f.ops, FT_TASK_BATTERY_SWAP, 1, z, -1, 5, -1, 100, &e), -1);
  ck_assert (g_error_matches (e, FT_OPS_ERROR, FT_OPS_ERROR_DUPLICATE));
  g_clear_error (&e);
  ck_assert_uint_eq (ft_ops_n (f.ops), 1);
  /* cannot start before assignment */
  ck_assert (!ft_ops_start (f.ops, t, (guint) f.field, 110, &e));
  ck_assert (g_error_matches (e, FT_OPS_ERROR, FT_OPS_ERROR_WRONG_STATE));
  g_clear_error (&e);
  ck_assert (ft_ops_assign (f.ops, t, (guint) f.field, -1, 120, &e));
  ck_assert_int_eq (ft_ops_get (f.ops, t)->state, FT_TASK_ASSIGNED);
  ck_assert (!ft_ops_start (f.ops, t, (guint) f.field2, 130, &e));   /* not yours */
  ck_assert (g_error_matches (e, FT_OPS_ERROR, FT_OPS_ERROR_NOT_YOURS));
  g_clear_error (&e);
  ck_assert (ft_ops_start (f.ops, t, (guint) f.field, 130, &e));
  ck_assert (ft_ops_check (f.ops, &e));
  ck_assert (ft_ops_complete (f.ops, t, (guint) f.field, 140, &e));
  ck_assert_int_eq (ft_ops_get (f.ops, t)->state, FT_TASK_DONE);
  ck_assert_int_eq (ft_ops_open_for (f.ops, 1, FT_TASK_BATTERY_SWAP), -1);
  ck_assert (!ft_ops_cancel (f.ops, t, -1, 150, &e));                 /* done is final */
  g_clear_error (&e);
  ck_assert_uint_eq (ft_event_log_count (f.log, FT_EV_TASK_DONE), 1);
  /* a new one for the same vehicle is fine now */
  ck_assert_int_ge (ft_ops_create (f.ops, FT_TASK_BATTERY_SWAP, 1, z, -1, 5, -1, 160, &e), 0);
  ck_assert (ft_ops_check (f.ops, &e));
  ck_assert_int_eq (ft_ops_create (f.ops, FT_TASK_REBALANCE, 99, z, -1, 5, -1, 160, &e), -1);
  ck_assert (g_error_matches (e, FT_OPS_ERROR, FT_OPS_ERROR_INVALID));
  g_clear_error (&e);
  ck_assert (!ft_ops_assign (f.ops, 77, (guint) f.field, -1, 0, &e));
  ck_assert (g_error_matches (e, FT_OPS_ERROR, FT_OPS_ERROR_NO_SUCH_TASK));
  ops_fx_clear (&f);
}
END_TEST

START_TEST (test_ops_permissions)
{
  OpsFx f;
  ops_fx_init (&f);
  FtLatLon z = { 52.5, 13.4 };
  g_autoptr (GError) e = NULL;
  /* riders and field staff may not create tasks by hand */
  ck_assert_int_eq (ft_ops_create (f.ops, FT_TASK_REBALANCE, 0, z, -1, 1, f.rider, 0, &e), -1);
  ck_assert (g_error_matches (e, FT_OPS_ERROR, FT_OPS_ERROR_PERMISSION));
  g_clear_error (&e);
  ck_assert_int_eq (ft_ops_create (f.ops, FT_TASK_REBALANCE, 0, z, -1, 1, f.field, 0, &e), -1);
  g_clear_error (&e);
  ck_assert_uint_eq (ft_ops_n (f.ops), 0);
  gint64 t = ft_ops_create (f.ops, FT_TASK_REBALANCE, 0, z, -1, 1, f.disp, 0, &e);
  ck_assert_int_ge (t, 0);
  /* only field-work accounts can be assigned; only dispatchers assign */
  ck_assert (!ft_ops_assign (f.ops, t, (guint) f.rider, f.disp, 0, &e));
  ck_assert (g_error_matches (e, FT_OPS_ERROR, FT_OPS_ERROR_PERMISSION));
  g_clear_error (&e);
  ck_assert (!ft_ops_assign (f.ops, t, (guint) f.disp, f.disp, 0, &e));
  g_clear_error (&e);
  ck_assert (!ft_ops_assign (f.ops, t, (guint) f.field, f.field2, 0, &e));
  g_clear_error (&e);
  ck_assert_int_eq (ft_ops_get (f.ops, t)->state, FT_TASK_OPEN);
  ck_assert (ft_ops_assign (f.ops, t, (guint) f.field, f.disp, 0, &e));
  ck_assert (ft_ops_assign (f.ops, t, (guint) f.admin, f.admin, 0, &e));   /* admin: both */
  ck_assert (ft_ops_unassign (f.ops, t, 0, &e));
  ck_assert_int_eq (ft_ops_get (f.ops, t)->state, FT_TASK_OPEN);
  ck_assert (!ft_ops_cancel (f.ops, t, f.rider, 0, &e));
  g_clear_error (&e);
  ck_assert (ft_ops_cancel (f.ops, t, f.disp, 0, &e));
  ck_assert (ft_ops_check (f.ops, &e));
  ops_fx_clear (&f);
}
END_TEST

/* A reload (store) rebuilds the queue's indexes from the tasks alone, and
 * refuses tasks that could not have come from a real queue. */
START_TEST (test_ops_restore)
{
  OpsFx f;
  ops_fx_init (&f);
  FtLatLon at = ft_fleet_get_vehicle (f.fleet, 2)->pos;
  g_autoptr (GError) e = NULL;
  gint64 open = ft_ops_create (f.ops, FT_TASK_BATTERY_SWAP, 0, at, -1, 3, -1, 10, &e);
  gint64 assigned = ft_ops_create (f.ops, FT_TASK_REBALANCE, 1, at, 4, 2, f.disp, 10, &e);
  gint64 started = ft_ops_create (f.ops, FT_TASK_COLLECT_REPAIR, 2, at, -1, 9, -1, 10, &e);
  gint64 done = ft_ops_create (f.ops, FT_TASK_BATTERY_SWAP, 1, at, -1, 1, -1, 10, &e);
  gint64 deploy = ft_ops_create (f.ops, FT_TASK_DEPLOY, -1, at, 2, 4, f.disp, 10, &e);
  ck_assert_msg (deploy == 4, "%s", e ? e->message : "");
  ck_assert (ft_ops_assign (f.ops, assigned, (guint) f.field, -1, 11, &e));
  ck_assert (ft_ops_assign (f.ops, started, (guint) f.field2, -1, 11, &e));
  ck_assert (ft_ops_start (f.ops, started, (guint) f.field2, 12, &e));
  ck_assert (ft_ops_assign (f.ops, done, (guint) f.field, -1, 11, &e));
  ck_assert (ft_ops_start (f.ops, done, (guint) f.field, 12, &e));
  ck_assert (ft_ops_complete (f.ops, done, (guint) f.field, 13, &e));

  guint n_events = ft_event_log_n_pending (f.log);
  g_autoptr (FtOps) copy = ft_ops_new (f.fleet, f.acc, f.log);
  for (guint i = 0; i < ft_ops_n (f.ops); i++)
    ck_assert_msg (ft_ops_restore (copy, ft_ops_get (f.ops, i), &e), "%s", e ? e->message : "");
  ck_assert_msg (ft_ops_check (copy, &e), "%s", e ? e->message : "");
  ck_assert_uint_eq (ft_event_log_n_pending (f.log), n_events);   /* no events */
  for (guint s = 0; s < FT_N_TASK_STATES; s++)
    ck_assert_uint_eq (ft_ops_count_state (copy, s), ft_ops_count_state (f.ops, s));
  ck_assert_int_eq (ft_ops_open_for (copy, 0, FT_TASK_BATTERY_SWAP), open);
  ck_assert_int_eq (ft_ops_open_for (copy, 1, FT_TASK_BATTERY_SWAP), -1);   /* done */
  ck_assert_int_eq (ft_ops_open_for (copy, 2, FT_TASK_COLLECT_REPAIR), started);
  ck_assert_int_eq (ft_ops_best_open (copy, at, 0), ft_ops_best_open (f.ops, at, 0));
  /* the restored queue goes on: the duplicate guard and the open set work */
  ck_assert_int_eq (ft_ops_create (copy, FT_TASK_BATTERY_SWAP, 0, at, -1, 1, -1, 20, &e), -1);
  ck_assert (g_error_matches (e, FT_OPS_ERROR, FT_OPS_ERROR_DUPLICATE));
  g_clear_error (&e);
  ck_assert (ft_ops_assign (copy, open, (guint) f.field, -1, 21, &e));
  ck_assert (ft_ops_check (copy, &e));

  /* refused: each names the task and leaves the queue as it was */
  g_autoptr (FtOps) bad = ft_ops_new (f.fleet, f.acc, NULL);
  FtTask k = *ft_ops_get (f.ops, open);
  k.id = 1;
  ck_assert (!ft_ops_restore (bad, &k, &e));
  ck_assert_msg (strstr (e->message, "next id is 0"), "%s", e->message);
  g_clear_error (&e);
  k.id = 0;
  k.state = (FtTaskState) 7;
  ck_assert (!ft_ops_restore (bad, &k, &e));
  ck_assert (g_error_matches (e, FT_OPS_ERROR, FT_OPS_ERROR_INVALID));
  g_clear_error (&e);
  k.state = FT_TASK_OPEN;
  k.staff = f.field;
  ck_assert (!ft_ops_restore (bad, &k, &e));
  ck_assert_msg (strstr (e->message, "is open but names staff"), "%s", e->message);
  g_clear_error (&e);
  k.staff = -1;
  k.vehicle = 99;
  ck_assert (!ft_ops_restore (bad, &k, &e));
  ck_assert_msg (strstr (e->message, "vehicle 99, which does not exist"), "%s", e->message);
  g_clear_error (&e);
  k.vehicle = -1;
  ck_assert (!ft_ops_restore (bad, &k, &e));   /* a swap needs a vehicle */
  g_clear_error (&e);
  ck_assert_uint_eq (ft_ops_n (bad), 0);
  k.vehicle = 0;
  ck_assert (ft_ops_restore (bad, &k, &e));
  k.id = 1;
  ck_assert (!ft_ops_restore (bad, &k, &e));   /* a second unfinished swap for vehicle 0 */
  ck_assert (g_error_matches (e, FT_OPS_ERROR, FT_OPS_ERROR_DUPLICATE));
  g_clear_error (&e);
  ck_assert_uint_eq (ft_ops_n (bad), 1);
  ck_assert (ft_ops_check (bad, &e));
  ops_fx_clear (&f);
}
END_TEST

START_TEST (test_ops_best_open)
{
  OpsFx f;
  ops_fx_init (&f);
  FtLatLon at = ft_fleet_get_vehicle (f.fleet, 2)->pos;
  gint64 a = ft_ops_create (f.ops, FT_TASK_BATTERY_SWAP, 0, at, -1, 1, -1, 0, NULL);
  gint64 b = ft_ops_create (f.ops, FT_TASK_BATTERY_SWAP, 2, at, -1, 1, -1, 0, NULL);
  gint64 c = ft_ops_create (f.ops, FT_TASK_COLLECT_REPAIR, 0, at, -1, 9, -1, 0, NULL);
  ck_assert_int_eq (ft_ops_best_open (f.ops, at, 0), c);                               /* priority */
  ck_assert_int_eq (ft_ops_best_open (f.ops, at, 1u << FT_TASK_BATTERY_SWAP), b);      /* nearest */
  ck_assert_int_eq (ft_ops_best_open (f.ops, at, 1u << FT_TASK_REBALANCE), -1);
  g_autoptr (GArray) open = g_array_new (FALSE, FALSE, sizeof (gint64));
  ft_ops_list_open (f.ops, open);
  ck_assert_uint_eq (open->len, 3);
  ck_assert_int_eq (g_array_index (open, gint64, 0), a);
  ck_assert_uint_eq (ft_ops_count_state (f.ops, FT_TASK_OPEN), 3);
  /* near: with an index, only tasks within the radius compete */
  FtBBox bb;
  ft_bbox_init_empty (&bb);
  ft_bbox_extend (&bb, ft_latlon_offset (at, -2000, -2000));
  ft_bbox_extend (&bb, ft_latlon_offset (at, 2000, 2000));
  ck_assert_int_eq (ft_ops_best_open_near (f.ops, at, 50, 0), c);        /* no index: global */
  ft_ops_enable_index (f.ops, bb, 50);
  FtLatLon v0 = ft_fleet_get_vehicle (f.fleet, 0)->pos;
  ck_assert_int_eq (ft_ops_best_open_near (f.ops, v0, 50, 1u << FT_TASK_BATTERY_SWAP), a);
  ck_assert_int_eq (ft_ops_best_open_near (f.ops, at, 50, 0), b);        /* c is 200 m away */
  ck_assert_int_eq (ft_ops_best_open_near (f.ops, at, 500, 0), c);
  ck_assert (ft_ops_assign (f.ops, b, (guint) f.field, -1, 0, NULL));
  ck_assert_int_eq (ft_ops_best_open_near (f.ops, at, 50, 1u << FT_TASK_BATTERY_SWAP), a);  /* fallback */
  ck_assert (ft_ops_check (f.ops, NULL));
  ops_fx_clear (&f);
}
END_TEST

/* The index (one grid per priority and kind, searched nearest first)
 * chooses what a scan of every open task within the radius chooses:
 * highest priority, then nearest, then lowest id; and falls back to the
 * global pick when none is within the radius. */
START_TEST (test_ops_best_open_near_matches_scan)
{
  FtEventLog *log = ft_event_log_new ();
  FtFleet *fleet = ft_fleet_new (1, log);
  FtAccounts *acc = ft_accounts_new (1, log);
  gint field = ft_accounts_create (acc, FT_ROLE_FIELD, "F", NULL, 0, NULL);
  FtOps *ops = ft_ops_new (fleet, acc, log);
  GRand *r = g_rand_new_with_seed (16);
  FtLatLon c = { 52.5, 13.4 };
  for (int i = 0; i < 400; i++)
    ft_fleet_add_vehicle (fleet, FT_KIND_SCOOTER,
                          ft_latlon_offset (c, g_rand_double_range (r, -1500, 1500), g_rand_double_range (r, -1500, 1500)),
                          NULL, 0);
  FtBBox bb;
  ft_bbox_init_empty (&bb);
  ft_bbox_extend (&bb, ft_latlon_offset (c, -2000, -2000));
  ft_bbox_extend (&bb, ft_latlon_offset (c, 2000, 2000));
  ft_ops_enable_index (ops, bb, 200);
  for (int i = 0; i < 600; i++)
    {
      FtTaskKind kind = (FtTaskKind) g_rand_int_range (r, 0, 3);
      gint32 v = g_rand_int_range (r, 0, 400);
      gint64 id = ft_ops_create (ops, kind, v, ft_fleet_get_vehicle (fleet, (guint) v)->pos, -1,
                                 g_rand_int_range (r, 1, 5), -1, 0, NULL);
      if (id >= 0 && g_rand_int_range (r, 0, 5) == 0)
        ck_assert (ft_ops_assign (ops, id, (guint) field, -1, 0, NULL));   /* leaves the index */
    }
  ck_assert (ft_ops_check (ops, NULL));
  static const double radii[] = { 30, 150, 400, 750, 3000 };
  g_autoptr (GArray) open = g_array_new (FALSE, FALSE, sizeof (gint64));
  ft_ops_list_open (ops, open);
  for (int q = 0; q < 400; q++)
    {
      FtLatLon at = ft_latlon_offset (c, g_rand_double_range (r, -1800, 1800), g_rand_double_range (r, -1800, 1800));
      double rad = radii[q % G_N_ELEMENTS (radii)];
      guint32 mask = q % 3 == 0 ? 0 : (guint32) g_rand_int_range (r, 1, 8);
      gint64 best = -1;
      gint prio = 0;
      double dist = 0;
      for (guint i = 0; i < open->len; i++)
        {
          const FtTask *t = ft_ops_get (ops, g_array_index (open, gint64, i));
          if (mask && !(mask & (1u << t->kind)))
            continue;
          double d = ft_distance_m (at, ft_fleet_get_vehicle (fleet, (guint) t->vehicle)->pos);
          if (d > rad)
            continue;
          if (best < 0 || t->priority > prio || (t->priority == prio && (d < dist || (d == dist && t->id < best))))
            best = t->id, prio = t->priority, dist = d;
        }
      if (best < 0)
        best = ft_ops_best_open (ops, at, mask);
      ck_assert_msg (ft_ops_best_open_near (ops, at, rad, mask) == best, "query %d (radius %g, mask %u)", q, rad, mask);
    }
  g_rand_free (r);
  ft_ops_free (ops);
  ft_accounts_free (acc);
  ft_fleet_free (fleet);
  ft_event_log_free (log);
}
END_TEST

/* ft_ops_best_open with the (priority, kind) index answers what the scan
 * of every open task answers (highest priority, then nearest to where the
 * vehicle is now, then lowest id), proposals skipped, after the vehicles
 * moved away from their indexed positions: two queues with the same tasks,
 * one indexed and one not. */
START_TEST (test_ops_best_open_indexed_matches_scan)
{
  FtEventLog *log = ft_event_log_new ();
  FtFleet *fleet = ft_fleet_new (1, log);
  FtAccounts *acc = ft_accounts_new (1, log);
  gint field = ft_accounts_create (acc, FT_ROLE_FIELD, "F", NULL, 0, NULL);
  FtOps *plain = ft_ops_new (fleet, acc, log), *indexed = ft_ops_new (fleet, acc, log);
  GRand *r = g_rand_new_with_seed (61);
  FtLatLon c = { 52.5, 13.4 };
  for (int i = 0; i < 300; i++)
    ft_fleet_add_vehicle (fleet, FT_KIND_SCOOTER,
                          ft_latlon_offset (c, g_rand_double_range (r, -1500, 1500), g_rand_double_range (r, -1500, 1500)),
                          NULL, 0);
  FtBBox bb;
  ft_bbox_init_empty (&bb);
  ft_bbox_extend (&bb, ft_latlon_offset (c, -2000, -2000));
  ft_bbox_extend (&bb, ft_latlon_offset (c, 2000, 2000));
  ft_ops_enable_index (indexed, bb, 200);
  for (int i = 0; i < 500; i++)
    {
      FtTaskKind kind = (FtTaskKind) g_rand_int_range (r, 0, 3);
      gint32 v = g_rand_int_range (r, -1, 300);   /* -1: a task at a target */
      FtLatLon target = ft_latlon_offset (c, g_rand_double_range (r, -1500, 1500), g_rand_double_range (r, -1500, 1500));
      gint prio = g_rand_int_range (r, 1, 4);
      gboolean propose = g_rand_int_range (r, 0, 6) == 0, assign = g_rand_int_range (r, 0, 5) == 0;
      FtOps *both[2] = { plain, indexed };
      for (int k = 0; k < 2; k++)
        {
          gint64 id = propose ? ft_ops_propose (both[k], kind, v, target, -1, prio, 0, NULL)
                              : ft_ops_create (both[k], kind, v, target, -1, prio, -1, 0, NULL);
          if (id >= 0 && assign && !propose)
            ck_assert (ft_ops_assign (both[k], id, (guint) field, -1, 0, NULL));
        }
    }
  /* vehicles move after their tasks were indexed: the scan reads where
   * they are now, and so must the index's answer */
  for (int i = 0; i < 300; i += 3)
    ft_fleet_set_position (fleet, (guint) i,
                           ft_latlon_offset (ft_fleet_get_vehicle (fleet, (guint) i)->pos, g_rand_double_range (r, -400, 400),
                                             g_rand_double_range (r, -400, 400)), 0, 0, FALSE);
  ck_assert (ft_ops_check (plain, NULL) && ft_ops_check (indexed, NULL));
  guint found = 0;
  for (int q = 0; q < 600; q++)
    {
      FtLatLon at = ft_latlon_offset (c, g_rand_double_range (r, -1800, 1800), g_rand_double_range (r, -1800, 1800));
      guint32 mask = q % 4 == 0 ? 0 : (guint32) g_rand_int_range (r, 1, 16);
      gint64 want = ft_ops_best_open (plain, at, mask), got = ft_ops_best_open (indexed, at, mask);
      if (want != got)
        ck_abort_msg ("query %d (mask %u): scan %" G_GINT64_FORMAT ", index %" G_GINT64_FORMAT, q, mask, want, got);
      found += want >= 0;
    }
  ck_assert_uint_gt (found, 300);
  g_rand_free (r);
  ft_ops_free (plain);
  ft_ops_free (indexed);
  ft_accounts_free (acc);
  ft_fleet_free (fleet);
  ft_event_log_free (log);
}
END_TEST

/* ft_ops_open_for answers through a bit per (vehicle, kind) before the
 * hash: over random creates, cancels and completions on many vehicles,
 * and in a queue restored from the tasks, it gives what a plain table of
 * unfinished tasks gives, for every vehicle and kind (and vehicles beyond
 * the fleet). */
START_TEST (test_ops_open_for_matches_table)
{
  OpsFx f;
  ops_fx_init (&f);
  enum { NV = 40, STEPS = 4000 };
  FtLatLon p = { 52.5, 13.4 };
  for (int i = 3; i < NV; i++)
    ft_fleet_add_vehicle (f.fleet, FT_KIND_SCOOTER, ft_latlon_offset (p, i * 50.0, 0), NULL, 0);
  gint64 table[NV][FT_N_TASK_KINDS];
  for (int v = 0; v < NV; v++)
    for (int k = 0; k < FT_N_TASK_KINDS; k++)
      table[v][k] = -1;
  GRand *r = g_rand_new_with_seed (16);
  g_autoptr (GError) e = NULL;
  guint n_done = 0, n_cancelled = 0;
  for (int step = 0; step < STEPS; step++)
    {
      int v = g_rand_int_range (r, 0, NV), k = g_rand_int_range (r, 0, FT_N_TASK_KINDS);
      FtTime now = step * 10;
      if (table[v][k] < 0)
        {
          table[v][k] = ft_ops_create (f.ops, (FtTaskKind) k, v, p, -1, 1, -1, now, &e);
          ck_assert_msg (table[v][k] >= 0, "%s", e ? e->message : "");
        }
      else if (g_rand_boolean (r))
        {
          ck_assert (ft_ops_cancel (f.ops, table[v][k], -1, now, &e));
          table[v][k] = -1;
          n_cancelled++;
        }
      else
        {
          ck_assert (ft_ops_assign (f.ops, table[v][k], (guint) f.field, -1, now, &e));
          ck_assert (ft_ops_start (f.ops, table[v][k], (guint) f.field, now, &e));
          ck_assert (ft_ops_complete (f.ops, table[v][k], (guint) f.field, now, &e));
          table[v][k] = -1;
          n_done++;
        }
      int qv = g_rand_int_range (r, 0, NV + 8), qk = g_rand_int_range (r, 0, FT_N_TASK_KINDS);
      ck_assert_int_eq (ft_ops_open_for (f.ops, (guint) qv, (FtTaskKind) qk), (qv < NV ? table[qv][qk] : -1));
      if (step % 500 == 0)
        ck_assert_msg (ft_ops_check (f.ops, &e), "%s", e ? e->message : "");
    }
  ck_assert_uint_gt (n_done, 500);
  ck_assert_uint_gt (n_cancelled, 500);
  g_autoptr (FtOps) copy = ft_ops_new (f.fleet, f.acc, NULL);
  for (guint i = 0; i < ft_ops_n (f.ops); i++)
    ck_assert (ft_ops_restore (copy, ft_ops_get (f.ops, i), &e));
  ck_assert_msg (ft_ops_check (f.ops, &e), "%s", e ? e->message : "");
  ck_assert_msg (ft_ops_check (copy, &e), "%s", e ? e->message : "");
  for (int v = 0; v < NV + 8; v++)
    for (int k = 0; k < FT_N_TASK_KINDS; k++)
      {
        gint64 want = v < NV ? table[v][k] : -1;
        ck_assert_int_eq (ft_ops_open_for (f.ops, (guint) v, (FtTaskKind) k), want);
        ck_assert_int_eq (ft_ops_open_for (copy, (guint) v, (FtTaskKind) k), want);
      }
  g_rand_free (r);
  ops_fx_clear (&f);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("ops");
  struct { const char *name; const TTest *fn; } cases[] = {
    { "ops-lifecycle", test_ops_lifecycle },
    { "ops-permissions", test_ops_permissions },
    { "ops-restore", test_ops_restore },
    { "ops-best-open", test_ops_best_open },
    { "ops-best-open-near-scan", test_ops_best_open_near_matches_scan },
    { "ops-best-open-indexed-scan", test_ops_best_open_indexed_matches_scan },
    { "ops-open-for-table", test_ops_open_for_matches_table },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TCase *tc = tcase_create (cases[i].name);
      tcase_add_test (tc, cases[i].fn);
      suite_add_tcase (s, tc);
    }
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}

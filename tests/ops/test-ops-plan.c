/* test-ops-plan.c — one planning cycle of van routes (src/ops/ft-ops-plan):
 * pack capacity, time windows, a started stop kept by its van, each task
 * planned at most once, a rebalance as pickup and delivery, tasks for a
 * vehicle that no longer exists dropped with a reason, the plan applied to
 * the queue, and bad vans refused with the queue untouched.
 */
#include "ft-config.h"
#include "ft-ops-plan.h"

#include <check.h>
#include <string.h>

#define SPEED 6.0   /* m/s */

typedef struct {
  FtEventLog *log;
  FtFleet    *fleet;
  FtAccounts *acc;
  FtOps      *ops;
  guint       staff[3];
  guint       rider;
  FtLatLon    origin;
} Fx;

static FtLatLon
at (Fx *f, double east_m, double north_m)
{
  return ft_latlon_offset (f->origin, east_m, north_m);
}

/* ten vehicles every 500 m going east */
static void
fx_init (Fx *f)
{
  memset (f, 0, sizeof *f);
  f->origin = (FtLatLon) { 52.5, 13.4 };
  f->log = ft_event_log_new ();
  f->fleet = ft_fleet_new (1, f->log);
  f->acc = ft_accounts_new (1, f->log);
  for (int i = 0; i < 10; i++)
    ft_fleet_add_vehicle (f->fleet, FT_KIND_SCOOTER, at (f, i * 500.0, 0), NULL, 0);
  for (int i = 0; i < 3; i++)
    f->staff[i] = (guint) ft_accounts_create (f->acc, FT_ROLE_FIELD, "F", NULL, 0, NULL);
  f->rider = (guint) ft_accounts_create (f->acc, FT_ROLE_RIDER, "R", NULL, 0, NULL);
  f->ops = ft_ops_new (f->fleet, f->acc, f->log);
}

static void
fx_clear (Fx *f)
{
  ft_ops_free (f->ops);
  ft_accounts_free (f->acc);
  ft_fleet_free (f->fleet);
  ft_event_log_free (f->log);
}

static double
travel (FtLatLon a, FtLatLon b, double *metres, gpointer data)
{
  int *calls = data;
  if (calls)
    (*calls)++;
  *metres = ft_distance_fast_m (a, b);
  return *metres / SPEED;
}

static gint64
task (Fx *f, FtTaskKind kind, guint v, FtLatLon target)
{
  g_autoptr (GError) e = NULL;
  gint64 id = ft_ops_create (f->ops, kind, (gint32) v, target, -1, 1, -1, 0, &e);
  ck_assert_msg (id >= 0, "%s", e ? e->message : "");
  return id;
}

static FtOpsVan
van (Fx *f, guint i, double east_m, int packs)
{
  return (FtOpsVan) { f->staff[i], at (f, east_m, 0), 0, 8 * FT_HOUR, at (f, east_m, 0), packs, NULL, 0, 0 };
}

static void
params (FtOpsPlanParams *p)
{
  ft_ops_plan_params_init (p);
  p->travel = travel;
  p->search.max_iterations = 300;
}

/* Every task in at most one route or in unplanned, never twice. */
static guint
check_once (Fx *f, const FtOpsPlan *plan)
{
  g_autofree guint8 *seen = g_new0 (guint8, ft_ops_n (f->ops) + 1);
  guint n = 0;
  for (guint r = 0; r < plan->n_routes; r++)
    {
      ck_assert_uint_eq (plan->routes[r].tasks->len, plan->routes[r].eta->len);
      for (guint i = 0; i < plan->routes[r].tasks->len; i++)
        {
          gint64 id = g_array_index (plan->routes[r].tasks, gint64, i);
          ck_assert_msg (!seen[id], "task %" G_GINT64_FORMAT " planned twice", id);
          seen[id] = 1;
          n++;
          if (i > 0)
            ck_assert_int_ge (g_array_index (plan->routes[r].eta, FtTime, i),
                              g_array_index (plan->routes[r].eta, FtTime, i - 1));
        }
    }
  for (guint i = 0; i < plan->unplanned->len; i++)
    {
      gint64 id = g_array_index (plan->unplanned, gint64, i);
      ck_assert_msg (!seen[id], "task %" G_GINT64_FORMAT " both planned and unplanned", id);
      seen[id] = 1;
    }
  return n;
}

START_TEST (test_plan_capacity)
{
  Fx f;
  fx_init (&f);
  FtLatLon none = { 0, 0 };
  for (guint v = 1; v <= 5; v++)
    task (&f, FT_TASK_BATTERY_SWAP, v, none);
  gint64 rb = task (&f, FT_TASK_REBALANCE, 6, at (&f, 100, 300));
  FtOpsVan vans[1] = { van (&f, 0, 0, 2) };
  FtOpsPlanParams p;
  params (&p);
  g_autoptr (GError) e = NULL;
  g_autoptr (FtOpsPlan) plan = ft_ops_plan_routes (f.ops, vans, 1, &p, &e);
  ck_assert_msg (plan != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (check_once (&f, plan), 3);        /* two swaps and the rebalance */
  ck_assert_uint_eq (plan->unplanned->len, 3);
  guint swaps = 0;
  gboolean has_rb = FALSE;
  for (guint i = 0; i < plan->routes[0].tasks->len; i++)
    {
      gint64 id = g_array_index (plan->routes[0].tasks, gint64, i);
      swaps += ft_ops_get (f.ops, id)->kind == FT_TASK_BATTERY_SWAP;
      has_rb |= id == rb;
    }
  ck_assert_uint_eq (swaps, 2);
  ck_assert (has_rb);
  /* the queue is untouched until the plan is applied */
  ck_assert_uint_eq (ft_ops_count_state (f.ops, FT_TASK_OPEN), 6);
  ck_assert (ft_ops_plan_apply (f.ops, vans, 1, plan, 10, &e));
  ck_assert_uint_eq (ft_ops_count_state (f.ops, FT_TASK_ASSIGNED), 3);
  for (guint i = 0; i < plan->routes[0].tasks->len; i++)
    ck_assert_int_eq (ft_ops_get (f.ops, g_array_index (plan->routes[0].tasks, gint64, i))->staff,
                      (gint32) f.staff[0]);
  ck_assert (ft_ops_check (f.ops, &e));
  fx_clear (&f);
}
END_TEST

static FtTime
due_fn (const FtTask *t, gpointer data)
{
  const FtTime *due = data;
  return due[t->id];
}

static double
travel_nodata (FtLatLon a, FtLatLon b, double *metres, gpointer data)
{
  return travel (a, b, metres, NULL);
}

START_TEST (test_plan_windows)
{
  Fx f;
  fx_init (&f);
  FtLatLon none = { 0, 0 };
  FtTime due[3];
  /* 4.5 km away is 750 s of driving: a 10-minute deadline cannot be met,
   * 4 km in 12 minutes can (667 s), but not after the one at 500 m first
   * (966 s); the shift's end bounds the rest */
  due[task (&f, FT_TASK_BATTERY_SWAP, 9, none)] = 10 * FT_MINUTE;
  due[task (&f, FT_TASK_BATTERY_SWAP, 8, none)] = 12 * FT_MINUTE;
  due[task (&f, FT_TASK_BATTERY_SWAP, 1, none)] = -1;
  FtOpsVan vans[1] = { van (&f, 0, 0, 5) };
  vans[0].shift_end = 3 * FT_HOUR;
  FtOpsPlanParams p;
  params (&p);
  p.travel = travel_nodata;
  p.due = due_fn;
  p.user_data = due;
  g_autoptr (GError) e = NULL;
  g_autoptr (FtOpsPlan) plan = ft_ops_plan_routes (f.ops, vans, 1, &p, &e);
  ck_assert_msg (plan != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (check_once (&f, plan), 2);
  ck_assert_uint_eq (plan->unplanned->len, 1);
  ck_assert_int_eq (g_array_index (plan->unplanned, gint64, 0), 0);
  const FtOpsRoute *r = &plan->routes[0];
  for (guint i = 0; i < r->tasks->len; i++)
    {
      gint64 id = g_array_index (r->tasks, gint64, i);
      if (due[id] >= 0)
        ck_assert_int_le (g_array_index (r->eta, FtTime, i), due[id]);
    }
  /* the deadline first, though it is the farther: 1 before 2 would miss it */
  ck_assert_int_eq (g_array_index (r->tasks, gint64, 0), 1);

  /* a shift too short for anything: nothing planned, nothing lost */
  vans[0].shift_end = 5 * FT_MINUTE;
  g_autoptr (FtOpsPlan) none_plan = ft_ops_plan_routes (f.ops, vans, 1, &p, &e);
  ck_assert (none_plan != NULL);
  ck_assert_uint_eq (check_once (&f, none_plan), 0);
  ck_assert_uint_eq (none_plan->unplanned->len, 3);
  fx_clear (&f);
}
END_TEST

START_TEST (test_plan_started_kept)
{
  Fx f;
  fx_init (&f);
  FtLatLon none = { 0, 0 };
  gint64 far = task (&f, FT_TASK_BATTERY_SWAP, 9, none);    /* at 4.5 km */
  gint64 near = task (&f, FT_TASK_BATTERY_SWAP, 1, none);   /* at 0.5 km */
  g_autoptr (GError) e = NULL;
  /* van 0 (at 0 m) set off for the far vehicle; van 1 stands right next to it */
  ck_assert (ft_ops_assign (f.ops, far, f.staff[0], -1, 0, &e));
  ck_assert (ft_ops_assign (f.ops, near, f.staff[0], -1, 0, &e));
  gint64 route0[2] = { far, near };
  FtOpsVan vans[2] = { van (&f, 0, 0, 5), van (&f, 1, 4500, 5) };
  vans[0].route = route0;
  vans[0].n_route = 2;
  vans[0].n_started = 1;
  gint64 fresh = task (&f, FT_TASK_BATTERY_SWAP, 8, none);  /* new, at 4 km */
  FtOpsPlanParams p;
  params (&p);
  g_autoptr (FtOpsPlan) plan = ft_ops_plan_routes (f.ops, vans, 2, &p, &e);
  ck_assert_msg (plan != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (check_once (&f, plan), 3);
  const FtOpsRoute *r0 = &plan->routes[0];
  ck_assert_uint_ge (r0->tasks->len, 1);
  ck_assert_int_eq (g_array_index (r0->tasks, gint64, 0), far);   /* kept, first */
  ck_assert_uint_eq (r0->n_started, 1);
  /* its service starts when van 0 gets there: 4.5 km at 6 m/s */
  ck_assert_int_eq (g_array_index (r0->eta, FtTime, 0), 750 * 1000);
  /* the new task went in somewhere: van 1 is 500 m from it */
  ck_assert (ft_ops_plan_apply (f.ops, vans, 2, &plan[0], 10, &e));
  ck_assert_int_ne (ft_ops_get (f.ops, fresh)->state, FT_TASK_OPEN);
  ck_assert_int_eq (ft_ops_get (f.ops, far)->staff, (gint32) f.staff[0]);
  ck_assert (ft_ops_check (f.ops, &e));
  fx_clear (&f);
}
END_TEST

START_TEST (test_plan_rebalance_pickup_delivery)
{
  Fx f;
  fx_init (&f);
  FtLatLon none = { 0, 0 };
  /* take vehicle 0 (at the depot) to 4 km east, where vehicle 8 waits for a
   * swap: one drive out, not two */
  gint64 rb = task (&f, FT_TASK_REBALANCE, 0, at (&f, 4000, 0));
  gint64 sw = task (&f, FT_TASK_BATTERY_SWAP, 8, none);
  FtOpsVan vans[1] = { van (&f, 0, 0, 5) };
  FtOpsPlanParams p;
  params (&p);
  p.service_s[FT_TASK_REBALANCE] = 120;
  p.service_s[FT_TASK_BATTERY_SWAP] = 300;
  g_autoptr (GError) e = NULL;
  g_autoptr (FtOpsPlan) plan = ft_ops_plan_routes (f.ops, vans, 1, &p, &e);
  ck_assert_msg (plan != NULL, "%s", e ? e->message : "");
  const FtOpsRoute *r = &plan->routes[0];
  ck_assert_uint_eq (r->tasks->len, 2);
  ck_assert_int_eq (g_array_index (r->tasks, gint64, 0), rb);
  ck_assert_int_eq (g_array_index (r->tasks, gint64, 1), sw);
  /* the swap starts after the pickup, the 4 km with the vehicle on board
   * (667 s) and its service: the delivery is part of the stop */
  FtTime want = (FtTime) ((120 + 4000.0 / SPEED) * 1000.0);
  ck_assert_int_le (llabs (g_array_index (r->eta, FtTime, 1) - want), 2000);
  /* metres: out to the vehicle (0), back from 4 km east to the depot */
  ck_assert_double_eq_tol (r->metres, 4000.0, 10.0);
  fx_clear (&f);
}
END_TEST

START_TEST (test_plan_drops_gone_vehicle)
{
  Fx f;
  fx_init (&f);
  FtLatLon none = { 0, 0 };
  g_autoptr (GError) e = NULL;
  gint64 gone_open = task (&f, FT_TASK_BATTERY_SWAP, 3, none);
  gint64 gone_routed = task (&f, FT_TASK_BATTERY_SWAP, 4, none);
  gint64 ok = task (&f, FT_TASK_BATTERY_SWAP, 5, none);
  ck_assert (ft_ops_assign (f.ops, gone_routed, f.staff[0], -1, 0, &e));
  ck_assert (ft_fleet_apply_event (f.fleet, 3, FT_VEV_DECOMMISSIONED, 1, &e));
  ck_assert (ft_fleet_apply_event (f.fleet, 4, FT_VEV_DECOMMISSIONED, 1, &e));
  gint64 route0[1] = { gone_routed };
  FtOpsVan vans[1] = { van (&f, 0, 0, 5) };
  vans[0].route = route0;
  vans[0].n_route = 1;
  FtOpsPlanParams p;
  params (&p);
  g_autoptr (FtOpsPlan) plan = ft_ops_plan_routes (f.ops, vans, 1, &p, &e);
  ck_assert_msg (plan != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (plan->dropped->len, 2);
  ck_assert_uint_eq (plan->reasons->len, 2);
  for (guint i = 0; i < 2; i++)
    {
      gint64 id = g_array_index (plan->dropped, gint64, i);
      ck_assert (id == gone_open || id == gone_routed);
      ck_assert_msg (strstr (g_ptr_array_index (plan->reasons, i), "decommissioned") != NULL, "%s",
                     (char *) g_ptr_array_index (plan->reasons, i));
    }
  ck_assert_uint_eq (check_once (&f, plan), 1);
  ck_assert_int_eq (g_array_index (plan->routes[0].tasks, gint64, 0), ok);
  ck_assert (ft_ops_plan_apply (f.ops, vans, 1, plan, 10, &e));
  ck_assert_int_eq (ft_ops_get (f.ops, gone_open)->state, FT_TASK_CANCELLED);
  ck_assert_int_eq (ft_ops_get (f.ops, gone_routed)->state, FT_TASK_CANCELLED);
  ck_assert_int_eq (ft_ops_get (f.ops, ok)->state, FT_TASK_ASSIGNED);
  fx_clear (&f);
}
END_TEST

START_TEST (test_plan_moves_and_unassigns)
{
  Fx f;
  fx_init (&f);
  FtLatLon none = { 0, 0 };
  g_autoptr (GError) e = NULL;
  /* van 0 holds an unstarted task at 4.5 km; van 1 stands on it, so the
   * plan moves it; the max_tasks bound leaves the worst open one out */
  gint64 t9 = task (&f, FT_TASK_BATTERY_SWAP, 9, none);
  ck_assert (ft_ops_assign (f.ops, t9, f.staff[0], -1, 0, &e));
  gint64 route0[1] = { t9 };
  FtOpsVan vans[2] = { van (&f, 0, 0, 5), van (&f, 1, 4500, 5) };
  vans[0].route = route0;
  vans[0].n_route = 1;
  vans[0].shift_end = 20 * FT_MINUTE;   /* van 0 cannot reach it and come back */
  FtOpsPlanParams p;
  params (&p);
  g_autoptr (FtOpsPlan) plan = ft_ops_plan_routes (f.ops, vans, 2, &p, &e);
  ck_assert_msg (plan != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (plan->routes[1].tasks->len, 1);
  ck_assert_int_eq (g_array_index (plan->routes[1].tasks, gint64, 0), t9);
  ck_assert (ft_ops_plan_apply (f.ops, vans, 2, plan, 10, &e));
  ck_assert_int_eq (ft_ops_get (f.ops, t9)->staff, (gint32) f.staff[1]);

  /* now nobody can reach it: back to open */
  gint64 route1[1] = { t9 };
  FtOpsVan v1[1] = { van (&f, 1, 0, 5) };
  v1[0].route = route1;
  v1[0].n_route = 1;
  v1[0].shift_end = 10 * FT_MINUTE;
  g_autoptr (FtOpsPlan) plan2 = ft_ops_plan_routes (f.ops, v1, 1, &p, &e);
  ck_assert (plan2 != NULL);
  ck_assert_uint_eq (plan2->unplanned->len, 1);
  ck_assert (ft_ops_plan_apply (f.ops, v1, 1, plan2, 20, &e));
  ck_assert_int_eq (ft_ops_get (f.ops, t9)->state, FT_TASK_OPEN);
  ck_assert (ft_ops_check (f.ops, &e));
  fx_clear (&f);
}
END_TEST

START_TEST (test_plan_max_tasks_by_priority)
{
  Fx f;
  fx_init (&f);
  g_autoptr (GError) e = NULL;
  FtLatLon none = { 0, 0 };
  gint64 lo = ft_ops_create (f.ops, FT_TASK_BATTERY_SWAP, 1, none, -1, 1, -1, 0, &e);
  gint64 hi = ft_ops_create (f.ops, FT_TASK_BATTERY_SWAP, 9, none, -1, 5, -1, 0, &e);
  FtOpsVan vans[1] = { van (&f, 0, 0, 5) };
  FtOpsPlanParams p;
  params (&p);
  p.max_tasks = 1;
  g_autoptr (FtOpsPlan) plan = ft_ops_plan_routes (f.ops, vans, 1, &p, &e);
  ck_assert (plan != NULL);
  ck_assert_uint_eq (plan->routes[0].tasks->len, 1);
  ck_assert_int_eq (g_array_index (plan->routes[0].tasks, gint64, 0), hi);
  /* by value: the valued task first whatever its priority */
  FtTaskValue val = { 0 };
  val.value = 10;
  val.staff_minutes = 5;
  val.value_per_minute = 2;
  ck_assert (ft_ops_set_value (f.ops, lo, &val, &e));
  p.by_value = TRUE;
  g_autoptr (FtOpsPlan) plan2 = ft_ops_plan_routes (f.ops, vans, 1, &p, &e);
  ck_assert_int_eq (g_array_index (plan2->routes[0].tasks, gint64, 0), lo);
  /* a value that does not pay comes after the standing rule's order */
  val.value = -3;
  val.value_per_minute = -0.6;
  ck_assert (ft_ops_set_value (f.ops, lo, &val, &e));
  g_autoptr (FtOpsPlan) plan3 = ft_ops_plan_routes (f.ops, vans, 1, &p, &e);
  ck_assert_int_eq (g_array_index (plan3->routes[0].tasks, gint64, 0), hi);
  /* one that does not pay its staff minutes but earns more than its van
   * km still beats the standing rule (a shift is paid either way) */
  val.staff_cost = 4;
  ck_assert (ft_ops_set_value (f.ops, lo, &val, &e));
  g_autoptr (FtOpsPlan) plan4 = ft_ops_plan_routes (f.ops, vans, 1, &p, &e);
  ck_assert_int_eq (g_array_index (plan4->routes[0].tasks, gint64, 0), lo);
  fx_clear (&f);
}
END_TEST

START_TEST (test_plan_refuses_bad_vans)
{
  Fx f;
  fx_init (&f);
  FtLatLon none = { 0, 0 };
  g_autoptr (GError) e = NULL;
  gint64 t = task (&f, FT_TASK_BATTERY_SWAP, 2, none);
  FtOpsPlanParams p;
  params (&p);
  int calls = 0;
  p.user_data = &calls;
  /* a rider's account */
  FtOpsVan bad[1] = { van (&f, 0, 0, 5) };
  bad[0].staff = f.rider;
  ck_assert (ft_ops_plan_routes (f.ops, bad, 1, &p, &e) == NULL);
  ck_assert (g_error_matches (e, FT_OPS_ERROR, FT_OPS_ERROR_PERMISSION));
  ck_assert_msg (strstr (e->message, "van 0") != NULL, "%s", e->message);
  g_clear_error (&e);
  /* more started than the route holds */
  gint64 route[1] = { t };
  FtOpsVan v2[1] = { van (&f, 0, 0, 5) };
  v2[0].route = route;
  v2[0].n_route = 1;
  v2[0].n_started = 2;
  ck_assert (ft_ops_plan_routes (f.ops, v2, 1, &p, &e) == NULL);
  ck_assert (g_error_matches (e, FT_OPS_ERROR, FT_OPS_ERROR_INVALID));
  g_clear_error (&e);
  /* a task in two vans' routes */
  FtOpsVan v3[2] = { van (&f, 0, 0, 5), van (&f, 1, 0, 5) };
  v3[0].route = v3[1].route = route;
  v3[0].n_route = v3[1].n_route = 1;
  ck_assert (ft_ops_plan_routes (f.ops, v3, 2, &p, &e) == NULL);
  ck_assert_msg (strstr (e->message, "two vans") != NULL, "%s", e->message);
  g_clear_error (&e);
  /* a route task assigned to someone else */
  ck_assert (ft_ops_assign (f.ops, t, f.staff[2], -1, 0, &e));
  ck_assert (ft_ops_plan_routes (f.ops, v3, 1, &p, &e) == NULL);
  ck_assert (g_error_matches (e, FT_OPS_ERROR, FT_OPS_ERROR_NOT_YOURS));
  g_clear_error (&e);
  /* a van free before now */
  FtOpsVan v4[1] = { van (&f, 0, 0, 5) };
  p.now = 60 * FT_MINUTE;
  ck_assert (ft_ops_plan_routes (f.ops, v4, 1, &p, &e) == NULL);
  ck_assert (g_error_matches (e, FT_OPS_ERROR, FT_OPS_ERROR_INVALID));
  g_clear_error (&e);
  /* nothing changed, no travel asked for */
  ck_assert_int_eq (ft_ops_get (f.ops, t)->staff, (gint32) f.staff[2]);
  ck_assert_int_eq (calls, 0);
  ck_assert (ft_ops_check (f.ops, &e));
  fx_clear (&f);
}
END_TEST

/* Fewest routes first: without a horizon one van takes all it can; a
 * horizon shorter than that work spreads it over both, and routes end
 * anywhere (no drive back to the depot counted). */
START_TEST (test_plan_horizon_spreads)
{
  Fx f;
  fx_init (&f);
  FtLatLon none = { 0, 0 };
  for (guint v = 1; v <= 6; v++)
    task (&f, FT_TASK_BATTERY_SWAP, v, none);
  FtOpsVan vans[2] = { van (&f, 0, 0, 10), van (&f, 1, 0, 10) };
  FtOpsPlanParams p;
  params (&p);
  g_autoptr (GError) e = NULL;
  g_autoptr (FtOpsPlan) all = ft_ops_plan_routes (f.ops, vans, 2, &p, &e);
  ck_assert_msg (all != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (check_once (&f, all), 6);
  ck_assert_uint_eq (MIN (all->routes[0].tasks->len, all->routes[1].tasks->len), 0);
  p.horizon = 25 * FT_MINUTE;   /* six 5-minute swaps and the driving do not fit in one */
  g_autoptr (FtOpsPlan) spread = ft_ops_plan_routes (f.ops, vans, 2, &p, &e);
  ck_assert_msg (spread != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (check_once (&f, spread), 6);
  ck_assert_uint_gt (spread->routes[0].tasks->len, 0);
  ck_assert_uint_gt (spread->routes[1].tasks->len, 0);
  for (guint r = 0; r < 2; r++)
    {
      const FtOpsRoute *rt = &spread->routes[r];
      ck_assert_int_le (g_array_index (rt->eta, FtTime, rt->eta->len - 1) + 5 * FT_MINUTE, 25 * FT_MINUTE);
    }
  fx_clear (&f);
}
END_TEST

/* A proposal not yet approved is never planned (it could not be
 * assigned); the caller's accept filter leaves out what it refuses. */
static gboolean
not_vehicle_2 (const FtTask *t, gpointer data)
{
  return t->vehicle != 2;
}

START_TEST (test_plan_skips_proposals_and_filtered)
{
  Fx f;
  fx_init (&f);
  FtLatLon none = { 0, 0 };
  g_autoptr (GError) e = NULL;
  gint64 prop = ft_ops_propose (f.ops, FT_TASK_BATTERY_SWAP, 1, none, -1, 9, 0, &e);
  ck_assert_int_ge (prop, 0);
  gint64 t2 = task (&f, FT_TASK_BATTERY_SWAP, 2, none);
  gint64 t3 = task (&f, FT_TASK_BATTERY_SWAP, 3, none);
  FtOpsVan vans[1] = { van (&f, 0, 0, 6) };
  FtOpsPlanParams p;
  params (&p);
  p.accept = not_vehicle_2;
  g_autoptr (FtOpsPlan) plan = ft_ops_plan_routes (f.ops, vans, 1, &p, &e);
  ck_assert_msg (plan != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (check_once (&f, plan), 1);
  ck_assert_int_eq (g_array_index (plan->routes[0].tasks, gint64, 0), t3);
  ck_assert_msg (ft_ops_plan_apply (f.ops, vans, 1, plan, 10, &e), "%s", e ? e->message : "");
  ck_assert_int_eq (ft_ops_get (f.ops, prop)->state, FT_TASK_OPEN);
  ck_assert_int_eq (ft_ops_get (f.ops, t2)->state, FT_TASK_OPEN);
  ck_assert_int_eq (ft_ops_get (f.ops, t3)->state, FT_TASK_ASSIGNED);
  ck_assert (ft_ops_check (f.ops, &e));
  fx_clear (&f);
}
END_TEST

/* wait cost per hour for the test: the task whose id is in data */
static double
wait_of (const FtTask *t, gpointer data)
{
  const double *w = data;   /* { flat task id, cost an hour } */
  return (double) t->id == w[0] ? w[1] : 0.0;
}

static double
travel_wait (FtLatLon a, FtLatLon b, double *metres, gpointer data)
{
  (void) data;
  *metres = ft_distance_fast_m (a, b);
  return *metres / SPEED;
}

/* A flat vehicle's swap 2 km west and an inspection 100 m east of the van,
 * routes ending anywhere (a horizon): by distance the inspection comes
 * first (2.2 km against 4.1 km). When the flat vehicle's hours are worth
 * more than the 1.9 km detour, its swap comes first; when they are worth
 * little, the order stays the distance's. A started stop stays first. */
START_TEST (test_plan_flat_swap_before_cheap_inspection)
{
  Fx f;
  fx_init (&f);
  FtLatLon none = { 0, 0 };
  ft_fleet_add_vehicle (f.fleet, FT_KIND_SCOOTER, at (&f, 100.0, 0), NULL, 0);     /* vehicle 10 */
  ft_fleet_add_vehicle (f.fleet, FT_KIND_SCOOTER, at (&f, -2000.0, 0), NULL, 0);   /* vehicle 11 */
  gint64 inspect = task (&f, FT_TASK_INSPECT, 10, none);
  gint64 swap = task (&f, FT_TASK_BATTERY_SWAP, 11, none);
  FtOpsVan vans[1] = { van (&f, 0, 0, 5) };
  FtOpsPlanParams p;
  params (&p);
  p.travel = travel_wait;
  p.horizon = 2 * FT_HOUR;
  p.cost_per_km = 0.35;
  double w[2] = { (double) swap, 0.5 };   /* 0.5 an hour: ~5 min saved is worth 0.04, the detour 0.67 */
  p.wait_cost = wait_of;
  p.user_data = w;
  g_autoptr (GError) e = NULL;
  g_autoptr (FtOpsPlan) cheap = ft_ops_plan_routes (f.ops, vans, 1, &p, &e);
  ck_assert_msg (cheap != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (check_once (&f, cheap), 2);
  ck_assert_int_eq (g_array_index (cheap->routes[0].tasks, gint64, 0), inspect);
  w[1] = 20.0;   /* a flat vehicle earning 20 an hour: ~5 min saved is worth 1.7 */
  g_autoptr (FtOpsPlan) dear = ft_ops_plan_routes (f.ops, vans, 1, &p, &e);
  ck_assert_msg (dear != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (check_once (&f, dear), 2);
  ck_assert_int_eq (g_array_index (dear->routes[0].tasks, gint64, 0), swap);
  ck_assert_int_eq (g_array_index (dear->routes[0].tasks, gint64, 1), inspect);
  ck_assert_double_gt (dear->routes[0].metres, cheap->routes[0].metres + 1500.0);
  /* the inspection started: it stays first whatever the swap is worth */
  ck_assert (ft_ops_assign (f.ops, inspect, f.staff[0], -1, 0, &e));
  gint64 route[1] = { inspect };
  vans[0].route = route;
  vans[0].n_route = 1;
  vans[0].n_started = 1;
  g_autoptr (FtOpsPlan) kept = ft_ops_plan_routes (f.ops, vans, 1, &p, &e);
  ck_assert_msg (kept != NULL, "%s", e ? e->message : "");
  ck_assert_int_eq (g_array_index (kept->routes[0].tasks, gint64, 0), inspect);
  ck_assert_int_eq (g_array_index (kept->routes[0].tasks, gint64, 1), swap);
  /* a bad waiting cost is refused, naming the task */
  w[1] = -1.0;
  g_autoptr (FtOpsPlan) bad = ft_ops_plan_routes (f.ops, vans, 1, &p, &e);
  ck_assert (bad == NULL);
  ck_assert_msg (e && strstr (e->message, "waiting cost"), "%s", e ? e->message : "");
  fx_clear (&f);
}
END_TEST

static gboolean
urgent_of (const FtTask *t, gpointer data)
{
  const gint64 *id = data;   /* the one urgent task */
  return t->id == *id;
}

/* Urgent tasks (a flat vehicle's swap) are planned first: a route that has
 * room for one stop takes the far urgent swap, not the near inspection the
 * solver takes by distance; an urgent task goes to the van that reaches it
 * soonest, not the nearest van that is busy; and it goes ahead of a running
 * route's stops that are not urgent, after a started one. */
START_TEST (test_plan_urgent_first)
{
  Fx f;
  fx_init (&f);
  FtLatLon none = { 0, 0 };
  ft_fleet_add_vehicle (f.fleet, FT_KIND_SCOOTER, at (&f, 100.0, 0), NULL, 0);     /* vehicle 10 */
  ft_fleet_add_vehicle (f.fleet, FT_KIND_SCOOTER, at (&f, -2000.0, 0), NULL, 0);   /* vehicle 11 */
  gint64 inspect = task (&f, FT_TASK_INSPECT, 10, none);
  gint64 swap = task (&f, FT_TASK_BATTERY_SWAP, 11, none);
  FtOpsVan vans[2] = { van (&f, 0, 0, 5), van (&f, 1, -4500.0, 5) };
  FtOpsPlanParams p;
  params (&p);
  p.travel = travel_wait;
  p.user_data = &swap;
  /* room for one stop: the inspection takes 317 s, the swap 633 s of 720 */
  p.horizon = 12 * FT_MINUTE;
  g_autoptr (GError) e = NULL;
  g_autoptr (FtOpsPlan) by_km = ft_ops_plan_routes (f.ops, vans, 1, &p, &e);
  ck_assert_msg (by_km != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (check_once (&f, by_km), 1);
  ck_assert_int_eq (g_array_index (by_km->routes[0].tasks, gint64, 0), inspect);
  p.urgent = urgent_of;
  g_autoptr (FtOpsPlan) first = ft_ops_plan_routes (f.ops, vans, 1, &p, &e);
  ck_assert_msg (first != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (check_once (&f, first), 1);
  ck_assert_uint_eq (first->routes[0].tasks->len, 1);
  ck_assert_int_eq (g_array_index (first->routes[0].tasks, gint64, 0), swap);
  ck_assert_uint_eq (first->unplanned->len, 1);
  ck_assert_int_eq (g_array_index (first->unplanned, gint64, 0), inspect);

  /* two vans: van 0 is 2 km away but busy for 20 min, van 1 2.5 km away
   * and free: van 1 is there first */
  p.horizon = 2 * FT_HOUR;
  vans[0].at = 20 * FT_MINUTE;
  g_autoptr (FtOpsPlan) two = ft_ops_plan_routes (f.ops, vans, 2, &p, &e);
  ck_assert_msg (two != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (check_once (&f, two), 2);
  ck_assert_uint_ge (two->routes[1].tasks->len, 1);
  ck_assert_int_eq (g_array_index (two->routes[1].tasks, gint64, 0), swap);
  ck_assert_int_lt (g_array_index (two->routes[1].eta, FtTime, 0), 8 * FT_MINUTE);

  /* a running route [inspection]: the new urgent swap goes ahead of it;
   * once the inspection has started, behind it */
  vans[0].at = 0;
  ck_assert (ft_ops_assign (f.ops, inspect, f.staff[0], -1, 0, &e));
  gint64 route[1] = { inspect };
  vans[0].route = route;
  vans[0].n_route = 1;
  g_autoptr (FtOpsPlan) ahead = ft_ops_plan_routes (f.ops, vans, 1, &p, &e);
  ck_assert_msg (ahead != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (check_once (&f, ahead), 2);
  ck_assert_int_eq (g_array_index (ahead->routes[0].tasks, gint64, 0), swap);
  ck_assert_int_eq (g_array_index (ahead->routes[0].tasks, gint64, 1), inspect);
  ck_assert_uint_eq (ahead->routes[0].n_started, 0);
  vans[0].n_started = 1;
  g_autoptr (FtOpsPlan) kept = ft_ops_plan_routes (f.ops, vans, 1, &p, &e);
  ck_assert_msg (kept != NULL, "%s", e ? e->message : "");
  ck_assert_int_eq (g_array_index (kept->routes[0].tasks, gint64, 0), inspect);
  ck_assert_int_eq (g_array_index (kept->routes[0].tasks, gint64, 1), swap);
  ck_assert_uint_eq (kept->routes[0].n_started, 1);
  fx_clear (&f);
}
END_TEST

static Suite *
plan_suite (void)
{
  Suite *s = suite_create ("ops-plan");
  TCase *tc = tcase_create ("plan");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_plan_capacity);
  tcase_add_test (tc, test_plan_windows);
  tcase_add_test (tc, test_plan_started_kept);
  tcase_add_test (tc, test_plan_rebalance_pickup_delivery);
  tcase_add_test (tc, test_plan_drops_gone_vehicle);
  tcase_add_test (tc, test_plan_moves_and_unassigns);
  tcase_add_test (tc, test_plan_max_tasks_by_priority);
  tcase_add_test (tc, test_plan_refuses_bad_vans);
  tcase_add_test (tc, test_plan_horizon_spreads);
  tcase_add_test (tc, test_plan_skips_proposals_and_filtered);
  tcase_add_test (tc, test_plan_flat_swap_before_cheap_inspection);
  tcase_add_test (tc, test_plan_urgent_first);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (plan_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}

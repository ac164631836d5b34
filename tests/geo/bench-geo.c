/* bench-geo.c — figures for the spatial parts the simulator leans on:
 * FtGridIndex insert/move rates and radius queries against a brute-force
 * scan (the named alternative), fleet state-machine throughput, and
 * geofence rule lookups on the real GBFS fixture. Prints medians of
 * several rounds; not a test. Usage: bench-geo [n_points]
 */
#include <stdio.h>
#include <stdlib.h>

#include "ft-config.h"
#include "ft-test.h"
#include "ft-fleet.h"
#include "ft-geo.h"
#include "ft-geofence.h"

static gboolean
count_cb (guint id, FtLatLon pos, double d, gpointer user_data)
{
  (*(guint *) user_data)++;
  return TRUE;
}

#define ROUNDS 5

int
main (int argc, char **argv)
{
  const FtLatLon c = { 52.52, 13.405 };
  guint n = argc > 1 ? (guint) atoi (argv[1]) : 1000000;
  g_autoptr(GRand) rng = g_rand_new_with_seed (1);
  FtLatLon *pos = g_new (FtLatLon, n);
  FtLatLon q[200];
  double t_ins[ROUNDS], t_move[ROUNDS], t_grid[ROUNDS], t_brute[ROUNDS];
  FtBBox b;
  guint i, r, k, found_grid = 0, found_brute = 0;

  ft_bbox_init_empty (&b);
  ft_bbox_extend (&b, ft_latlon_offset (c, -10000, -10000));
  ft_bbox_extend (&b, ft_latlon_offset (c, 10000, 10000));
  for (i = 0; i < n; i++)
    pos[i] = ft_latlon_offset (c, g_rand_double_range (rng, -10000, 10000), g_rand_double_range (rng, -10000, 10000));
  for (k = 0; k < G_N_ELEMENTS (q); k++)
    q[k] = ft_latlon_offset (c, g_rand_double_range (rng, -9000, 9000), g_rand_double_range (rng, -9000, 9000));

  for (r = 0; r < ROUNDS; r++)
    {
      FtGridIndex *g = ft_grid_index_new (b, 100);
      gint64 t0 = g_get_monotonic_time ();

      for (i = 0; i < n; i++)
        ft_grid_index_insert (g, i, pos[i]);
      t_ins[r] = (double) (g_get_monotonic_time () - t0) / n;
      t0 = g_get_monotonic_time ();
      for (i = 0; i < n; i++)
        ft_grid_index_move (g, i, ft_latlon_offset (pos[i], 8.0, -5.0));   /* a 1 s scooter step */
      t_move[r] = (double) (g_get_monotonic_time () - t0) / n;
      found_grid = 0;
      t0 = g_get_monotonic_time ();
      for (k = 0; k < G_N_ELEMENTS (q); k++)
        ft_grid_index_visit (g, q[k], 300, count_cb, &found_grid);
      t_grid[r] = (double) (g_get_monotonic_time () - t0) / G_N_ELEMENTS (q);
      ft_grid_index_free (g);

      /* Brute force over the same (moved) points, first 20 queries only. */
      found_brute = 0;
      t0 = g_get_monotonic_time ();
      for (k = 0; k < 20; k++)
        for (i = 0; i < n; i++)
          if (ft_distance_m (q[k], ft_latlon_offset (pos[i], 8.0, -5.0)) <= 300)
            found_brute++;
      t_brute[r] = (double) (g_get_monotonic_time () - t0) / 20;
    }
  printf ("grid index, %u points over 20x20 km, 100 m cells, medians of %d rounds\n", n, ROUNDS);
  printf ("  insert                 %8.1f ns/point\n", ft_test_median (t_ins, ROUNDS) * 1000);
  printf ("  move (1 s step)        %8.1f ns/point  (%.1f M moves/s)\n",
          ft_test_median (t_move, ROUNDS) * 1000, 1.0 / ft_test_median (t_move, ROUNDS));
  printf ("  query r=300 m          %8.1f us/query  (%.1f hits on average)\n",
          ft_test_median (t_grid, ROUNDS), (double) found_grid / G_N_ELEMENTS (q));
  printf ("  brute-force scan       %8.1f us/query\n", ft_test_median (t_brute, ROUNDS));
  printf ("  speed-up vs brute force %7.0fx\n", ft_test_median (t_brute, ROUNDS) / ft_test_median (t_grid, ROUNDS));

  /* Fleet state machine: reserve/start/end cycles through the event log. */
  {
    g_autoptr(FtFleet) f = ft_fleet_new (1, NULL);
    FtEventLog *log = ft_event_log_new ();
    double t_cycle[ROUNDS];
    const guint NV = 10000, CYCLES = 300000;

    ft_event_log_set_retain (log, FALSE);
    for (i = 0; i < NV; i++)
      ft_fleet_add_vehicle (f, FT_KIND_SCOOTER, pos[i % n], NULL, 0);
    ft_fleet_set_event_log (f, log);
    for (r = 0; r < ROUNDS; r++)
      {
        gint64 t0 = g_get_monotonic_time ();
        for (k = 0; k < CYCLES; k++)
          {
            guint v = k % NV;
            ft_fleet_apply_event (f, v, FT_VEV_RESERVATION_START, k, NULL);
            ft_fleet_apply_event (f, v, FT_VEV_TRIP_START, k, NULL);
            ft_fleet_apply_event (f, v, FT_VEV_TRIP_END, k, NULL);
          }
        t_cycle[r] = (double) (g_get_monotonic_time () - t0) / CYCLES;
      }
    printf ("fleet: reserve+start+end with event log: %.0f ns/cycle (%.2f M transitions/s)\n",
            ft_test_median (t_cycle, ROUNDS) * 1000, 3.0 / ft_test_median (t_cycle, ROUNDS));
    ft_event_log_free (log);
  }

  /* Geofence lookups on the real 3.0 fixture (273 zones). */
  {
    const char *dir = g_getenv ("FT_SHARED_DATA_DIR");
    g_autofree char *path = g_build_filename (dir && *dir ? dir : FT_SHARED_DATA_DIR, "gbfs",
                                              "mobilitydata_testfixtures_v3.0", "geofencing_zones.json", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(FtGeofences) gf = ft_geofences_load_gbfs (path, &error);
    const FtLatLon paris = { 48.8566, 2.3522 };
    double t_look[ROUNDS];
    const guint L = 20000;
    int zone, inside = 0;

    if (gf == NULL)
      {
        printf ("geofences: %s\n", error->message);
        g_free (pos);
        return 0;
      }
    for (r = 0; r < ROUNDS; r++)
      {
        g_autoptr(GRand) gr = g_rand_new_with_seed (5);
        gint64 t0 = g_get_monotonic_time ();
        inside = 0;
        for (k = 0; k < L; k++)
          {
            FtLatLon p = ft_latlon_offset (paris, g_rand_double_range (gr, -8000, 8000), g_rand_double_range (gr, -8000, 8000));
            ft_geofences_rules_at (gf, p, FT_KIND_SCOOTER, &zone);
            inside += zone >= 0;
          }
        t_look[r] = (double) (g_get_monotonic_time () - t0) / L;
      }
    printf ("geofences: %u zones, rules_at %.2f us/lookup (%.0f%% of points in a zone)\n",
            ft_geofences_n_zones (gf), ft_test_median (t_look, ROUNDS), 100.0 * inside / L);
  }
  g_free (pos);
  return 0;
}

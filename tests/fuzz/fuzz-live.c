/* fuzz-live.c — libFuzzer harness for live-mode MQTT messages: topics and
 * payloads through ft_live_ingest (src/live, read-only use), on a fresh
 * core with two vehicles, two staff and tasks assigned to them. The input
 * is one message per line, "TOPIC PAYLOAD" (split at the first space); a
 * topic starting with '/' is taken under the fleet prefix "ft/fuzz". After
 * the messages the adapter ticks, and the core, the adapter and the task
 * queue must pass their invariant checks.
 */
#include "fuzz-common.h"
#include "ft-live.h"

#define PFX "ft/fuzz"
#define T0 ((FtTime) 1700000000000)

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_init_glib ();
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  g_autoptr(FtCore) core = ft_core_new (&cc, NULL, NULL);
  FtLiveConfig cfg;
  ft_live_config_init (&cfg);
  g_free (cfg.prefix);
  cfg.prefix = g_strdup (PFX);
  cfg.unknown = FT_LIVE_UNKNOWN_REGISTER;
  g_autoptr(GError) error = NULL;
  FtLive *live = ft_live_new (core, &cfg, &error);
  ft_live_config_clear (&cfg);
  if (live == NULL)
    g_error ("ft_live_new: %s", error->message);
  FtOps *ops = ft_ops_new (core->fleet, core->accounts, core->log);
  ft_live_set_ops (live, ops);

  /* two vehicles, two staff with a task each, for messages to aim at */
  static const char *const devs[] = { "3f2a8c1e-6b7d-4e2f-9a1b-2c3d4e5f6a7b", "0b7c7d36-1111-4222-8333-944455556666" };
  for (guint i = 0; i < G_N_ELEMENTS (devs); i++)
    {
      g_autofree char *topic = g_strdup_printf (PFX "/vehicles/%s/telemetry", devs[i]);
      g_autofree char *p = g_strdup_printf ("{\"timestamp\":%" G_GINT64_FORMAT ",\"lat\":52.5,\"lon\":13.4,"
                                            "\"battery_pct\":50,\"vehicle_state\":\"available\"}", T0);
      if (!ft_live_ingest (live, topic, p, strlen (p), T0, &error))
        g_error ("set-up telemetry refused: %s", error->message);
    }
  gint disp = ft_accounts_create (core->accounts, FT_ROLE_DISPATCHER, "d", NULL, T0, NULL);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *topic = g_strdup_printf (PFX "/staff/s%u/position", i);
      const char *p = "{\"timestamp\":1700000000000,\"lat\":52.5,\"lon\":13.4}";
      guint si;
      if (!ft_live_ingest (live, topic, p, strlen (p), T0, &error))
        g_error ("set-up staff position refused: %s", error->message);
      gint64 t = ft_ops_create (ops, (FtTaskKind) i, i, (FtLatLon) { 52.5, 13.4 }, -1, 1, disp, T0, NULL);
      g_assert (t >= 0);
      g_autofree char *sid = g_strdup_printf ("s%u", i);
      g_assert (ft_live_lookup_staff (live, sid, &si));
      if (ft_live_assign_task (live, t, si, disp, T0, 60 * FT_SECOND, &error) == NULL)
        g_error ("set-up task assignment refused: %s", error->message);
    }

  const char *p = (const char *) data, *end = p + size;
  FtTime now = T0;
  guint n = 0;
  while (p < end && n < 256)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));
      const char *line_end = nl ? nl : end;
      const char *sp = memchr (p, ' ', (gsize) (line_end - p));
      const char *payload = sp ? sp + 1 : line_end;
      g_autofree char *topic = g_strndup (p, (gsize) ((sp ? sp : line_end) - p));
      if (topic[0] == '/')
        {
          char *full = g_strconcat (PFX, topic, NULL);
          g_free (topic);
          topic = full;
        }
      now += 1000;
      g_autoptr(GError) e = NULL;
      if (!ft_live_ingest (live, topic, payload, (gsize) (line_end - payload), now, &e))
        g_assert (e != NULL);
      fuzz_verbose (topic, e);
      p = nl ? nl + 1 : end;
      n++;
    }
  ft_live_process (live, now + FT_SECOND, 0);
  ft_live_tick (live, now + 120 * FT_SECOND);

  g_autoptr(GError) ce = NULL;
  if (!ft_core_check (core, &ce))
    g_error ("core: %s", ce->message);
  if (!ft_live_check (live, &ce))
    g_error ("live: %s", ce->message);
  if (!ft_ops_check (ops, &ce))
    g_error ("ops: %s", ce->message);
  for (guint v = 0; v < ft_fleet_n_vehicles (core->fleet); v++)
    {
      const FtVehicle *veh = ft_fleet_get_vehicle (core->fleet, v);
      g_assert (ft_latlon_valid (veh->pos));
      double soc = ft_fleet_soc (core->fleet, v);
      g_assert (soc >= 0 && soc <= 1);
    }
  ft_live_free (live);
  ft_ops_free (ops);
  return 0;
}

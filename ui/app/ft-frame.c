/* ft-frame.c — world pictures shared between the simulation worker and the
 * map layers: allocation, reference counting, projection and the vehicle
 * colour classes.
 */
#include "ft-frame.h"
#include "ft-fleet.h"

#include <math.h>

const guint32 ft_dot_rgb[FT_N_DOTS] = {
  [FT_DOT_AVAILABLE_HIGH]  = 0x26a269,
  [FT_DOT_AVAILABLE_MID]   = 0xe5a50a,
  [FT_DOT_AVAILABLE_LOW]   = 0xe01b24,
  [FT_DOT_RESERVED]        = 0x1c71d8,
  [FT_DOT_ON_TRIP]         = 0x9141ac,
  [FT_DOT_NON_OPERATIONAL] = 0x5e5c64,
  [FT_DOT_OTHER]           = 0x241f31,
};

const char *
ft_dot_label (FtDotClass c)
{
  static const char *labels[FT_N_DOTS] = {
    "Available, battery ≥ 50 %", "Available, battery 20–50 %", "Available, battery < 20 %",
    "Reserved", "On a trip", "Out of service", "Removed / unknown",
  };
  return c < FT_N_DOTS ? labels[c] : "?";
}

FtFrame *
ft_frame_new (guint n_vehicles, guint n_staff)
{
  FtFrame *f = g_new0 (FtFrame, 1);
  f->ref = 1;
  f->n_vehicles = n_vehicles;
  f->vehicles = g_new0 (FtFrameVehicle, MAX (n_vehicles, 1));
  f->n_staff = n_staff;
  f->staff = g_new0 (FtFrameStaff, MAX (n_staff, 1));
  return f;
}

FtFrame *
ft_frame_ref (FtFrame *f)
{
  g_return_val_if_fail (f != NULL, NULL);
  g_atomic_int_inc (&f->ref);
  return f;
}

void
ft_frame_unref (FtFrame *f)
{
  if (f == NULL || !g_atomic_int_dec_and_test (&f->ref))
    return;
  for (guint i = 0; i < f->n_staff; i++)
    {
      g_free (f->staff[i].route);
      g_free (f->staff[i].stops);
    }
  g_free (f->vehicles);
  g_free (f->staff);
  g_free (f->lost);
  g_free (f->lost_age);
  g_free (f->zone_heat);
  g_free (f->zone_price);
  g_free (f->zone_offer);
  g_free (f);
}

void
ft_mercator_from_latlon (FtLatLon p, double *mx, double *my)
{
  double lat = CLAMP (p.lat, -85.0511, 85.0511) * G_PI / 180.0;
  *mx = (p.lon + 180.0) / 360.0;
  *my = (1.0 - asinh (tan (lat)) / G_PI) / 2.0;
}

FtLatLon
ft_mercator_to_latlon (double mx, double my)
{
  FtLatLon p;
  p.lon = mx * 360.0 - 180.0;
  p.lat = atan (sinh (G_PI * (1.0 - 2.0 * my))) * 180.0 / G_PI;
  return p;
}

FtDotClass
ft_dot_classify (guint state, double soc)
{
  switch (state)
    {
    case FT_STATE_AVAILABLE:
      return soc >= 0.5 ? FT_DOT_AVAILABLE_HIGH : soc >= 0.2 ? FT_DOT_AVAILABLE_MID : FT_DOT_AVAILABLE_LOW;
    case FT_STATE_RESERVED:
      return FT_DOT_RESERVED;
    case FT_STATE_ON_TRIP:
      return FT_DOT_ON_TRIP;
    case FT_STATE_NON_OPERATIONAL:
      return FT_DOT_NON_OPERATIONAL;
    default:
      return FT_DOT_OTHER;
    }
}

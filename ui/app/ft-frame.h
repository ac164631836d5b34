/* ft-frame.h — an immutable picture of the world at one instant, built off
 * the UI thread (by the simulation worker) and swapped in per frame by the
 * window. Positions are stored already projected to normalised Web Mercator
 * (0..1 on both axes, y down) so the map layers only scale and translate.
 */
#pragma once

#include <glib.h>
#include "ft-common.h"

G_BEGIN_DECLS

typedef enum {
  FT_DOT_AVAILABLE_HIGH = 0,   /* available, battery ≥ 50 % */
  FT_DOT_AVAILABLE_MID,        /* available, 20–50 % */
  FT_DOT_AVAILABLE_LOW,        /* available, < 20 % (swap candidate) */
  FT_DOT_RESERVED,
  FT_DOT_ON_TRIP,
  FT_DOT_NON_OPERATIONAL,
  FT_DOT_OTHER,                /* removed, elsewhere, unknown */
  FT_N_DOTS
} FtDotClass;

/* RGB of each class (the legend and the screenshot test use the same). */
extern const guint32 ft_dot_rgb[FT_N_DOTS];
const char *ft_dot_label (FtDotClass c);

typedef struct {
  double  mx, my;        /* normalised Web Mercator */
  guint8  state;         /* FtVehicleState */
  guint8  kind;          /* FtVehicleKind */
  guint8  soc_pct;       /* 0..100 */
  guint8  dot;           /* FtDotClass */
} FtFrameVehicle;

typedef struct {
  double    mx, my;
  double    tx, ty;      /* current target, or NaN */
  double   *route;       /* n_route (mx, my) pairs, may be NULL */
  guint     n_route;
  guint     n_tasks;     /* queued for this staff member */
  guint     packs;       /* charged packs in the van */
  double   *stops;       /* the ordered stop list: n_stops (mx, my) pairs, may be NULL */
  guint     n_stops;
  guint     n_started;   /* the first n_started stops are started (never taken away) */
  char      name[24];
  gboolean  busy;
} FtFrameStaff;

typedef struct {
  double utilisation;        /* fraction of fleet on trip, 0..1 */
  guint  trips_served;
  guint  trips_lost;
  gint64 revenue_minor;
  char   currency[4];
  double battery_available;  /* share of vehicles the model does not flag low on battery, 0..1 */
  double battery_unavailable_run; /* the KPI report's battery_unavailable_share so far */
  guint  tasks_open, tasks_done;
  gint64 incentive_cost_minor;    /* relocation rewards paid so far */
  guint  incentive_moves;         /* riders who took an offer */
} FtFrameKpi;

/* Offers in a zone (FtFrame.zone_offer bits). */
enum { FT_FRAME_OFFER_START = 1, FT_FRAME_OFFER_END = 2 };

/* Simulated time over which a lost-demand mark fades out. */
#define FT_FRAME_LOST_FADE (2 * FT_HOUR)

typedef struct {
  gint             ref;
  FtTime           now;
  guint64          seq;
  FtFrameVehicle  *vehicles;  guint n_vehicles;
  FtFrameStaff    *staff;     guint n_staff;
  double          *lost;      guint n_lost;    /* (mx, my) pairs */
  float           *lost_age;                   /* per lost point: 0 new … 1 faded out (NULL: all new) */
  float           *zone_heat; guint n_zones;   /* demand per zone, 0..1 */
  float           *zone_price;                 /* dynamic multiplier per zone (n_zones), NULL: no dynamic pricing */
  float            price_cap;                  /* the guard rails' cap (the layer's top colour) */
  guint8          *zone_offer;                 /* FT_FRAME_OFFER_* per zone, NULL: no incentives */
  FtFrameKpi       kpi;
} FtFrame;

FtFrame *ft_frame_new   (guint n_vehicles, guint n_staff);
FtFrame *ft_frame_ref   (FtFrame *f);
void     ft_frame_unref (FtFrame *f);

/* Projection helpers (normalised Web Mercator). */
void     ft_mercator_from_latlon (FtLatLon p, double *mx, double *my);
FtLatLon ft_mercator_to_latlon   (double mx, double my);
FtDotClass ft_dot_classify       (guint state, double soc);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtFrame, ft_frame_unref)

G_END_DECLS

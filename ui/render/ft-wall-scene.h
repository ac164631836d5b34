/* ft-wall-scene.h — what the wallboard and `fleet-twin-cli render` draw: a
 * plain snapshot of vehicles (projected once to Web Mercator), vans with
 * their current leg, the four KPI tiles, the alert ticker and a KPI history
 * for the charts. Sources (ft-wall-source) fill it; the drawing core
 * (ft-wall-draw) only reads it. No SDL, no GTK: the KPI rules (revenue of
 * the current day, lost-demand spikes) live here and are tested alone.
 */
#pragma once

#include "ft-common.h"
#include "ft-geo.h"

G_BEGIN_DECLS

/* One draw batch per layer (SDL_RenderGeometry on a GPU, SDL_RenderFillRects
 * on the software renderer). */
typedef enum {
  FT_WALL_LAYER_AVAILABLE = 0,   /* rentable */
  FT_WALL_LAYER_BUSY,            /* reserved or on a trip */
  FT_WALL_LAYER_LOW,             /* battery too low to be offered */
  FT_WALL_LAYER_DOWN,            /* fault, non-operational, comms lost */
  FT_WALL_N_LAYERS
} FtWallLayer;

typedef struct {
  float   mx, my;      /* Web Mercator, 0..1 (x east, y south) */
  guint8  layer;       /* FtWallLayer */
  guint8  kind;        /* FtVehicleKind */
  guint16 pad;
} FtWallVehicle;

typedef struct {
  float    mx, my;     /* where the van is */
  float    tx, ty;     /* where it is heading (valid when has_target) */
  gboolean has_target;
} FtWallVan;

typedef enum {
  FT_WALL_ALERT_INFO = 0,
  FT_WALL_ALERT_MAINTENANCE,
  FT_WALL_ALERT_LOST_DEMAND,
  FT_WALL_ALERT_BROKER,
} FtWallAlertKind;

typedef struct {
  FtTime          t;
  FtWallAlertKind kind;
  char            text[160];
} FtWallAlert;

typedef struct {
  FtTime t;
  float  service_level;      /* -1 unknown */
  float  battery_available;  /* -1 unknown */
  gint32 open_tasks;
  float  lost_per_hour;
  gint64 revenue_today_minor;
} FtWallSample;

#define FT_WALL_MAX_ALERTS   32
#define FT_WALL_LOST_BUCKET  (15 * FT_MINUTE)
#define FT_WALL_LOST_WINDOW  8          /* buckets the "usual" rate is taken over */
#define FT_WALL_SAMPLE_EVERY (5 * FT_MINUTE)

typedef struct {
  FtTime         t;
  GArray        *vehicles;            /* FtWallVehicle */
  GArray        *vans;                /* FtWallVan */
  /* KPI tiles */
  double         service_level;       /* served / requested so far, -1 unknown */
  double         battery_available;   /* share of vehicles not held back by a low battery, -1 unknown */
  gint64         open_tasks;          /* -1 unknown */
  gint64         revenue_today_minor;
  char           currency[4];
  /* alert ticker: a ring, newest last */
  FtWallAlert    alerts[FT_WALL_MAX_ALERTS];
  guint          n_alerts, alert_head;
  guint64        alert_serial;        /* bumps with every alert */
  GArray        *history;             /* FtWallSample, one per FT_WALL_SAMPLE_EVERY */
  char          *source_label;        /* "scenario demo-city-phase1 ×60", "run run1.db", "live mqtt://…" */
  char          *status;              /* a problem to show on screen (NULL: none) */
  /* revenue of the current day */
  gint64         rev_day, rev_day_base, rev_total;
  /* lost-demand spikes */
  gint64         lost_bucket;         /* index of the open bucket, -1 none */
  guint          lost_in_bucket;
  guint          lost_hist[FT_WALL_LOST_WINDOW];
  guint          n_lost_hist;
  guint64        lost_total;
} FtWallScene;

FtWallScene *ft_wall_scene_new   (void);
void         ft_wall_scene_free  (FtWallScene *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtWallScene, ft_wall_scene_free)

/* Web Mercator (0..1) of a WGS84 point, and back. */
void         ft_wall_project     (FtLatLon p, float *mx, float *my);
FtLatLon     ft_wall_unproject   (double mx, double my);

void         ft_wall_scene_alert (FtWallScene *s, FtWallAlertKind kind, FtTime t,
                                  const char *fmt, ...) G_GNUC_PRINTF (4, 5);
/* The i-th alert, 0 = newest; NULL past the end. */
const FtWallAlert *ft_wall_scene_get_alert (const FtWallScene *s, guint i);
void         ft_wall_scene_set_status (FtWallScene *s, const char *status);

/* Revenue earned so far (all days); the scene keeps the part earned since
 * the current day's midnight. Call at least once per simulated day (sources
 * split long jumps at midnight) so the day's base is exact. */
void         ft_wall_scene_set_revenue_total (FtWallScene *s, FtTime t, gint64 total_minor);
/* n requests lost at time t (non-decreasing). A 15-minute bucket that closes
 * with more than twice the usual count (the mean of the previous 8 buckets,
 * at least 5) raises a lost-demand alert. */
void         ft_wall_scene_note_lost (FtWallScene *s, FtTime t, guint n);
/* Appends a history sample when FT_WALL_SAMPLE_EVERY has passed. */
void         ft_wall_scene_sample    (FtWallScene *s);
/* The bounding box of the vehicles and vans (FALSE when there are none). */
gboolean     ft_wall_scene_extent    (const FtWallScene *s, double *mx0, double *my0,
                                      double *mx1, double *my1);
/* Up to max district centres (Mercator) for close-ups: the busiest cells of
 * a 4 x 4 grid over the extent, busiest first. */
guint        ft_wall_scene_districts (const FtWallScene *s, double *mx, double *my, guint max);

/* "08:15", "2d 08:15:30" … into ms since Monday 00:00. Accepts HH:MM,
 * HH:MM:SS, an optional "Nd " (or "Nd") day prefix, or plain seconds
 * ("3600s"). FALSE with a message naming the text otherwise. */
gboolean     ft_wall_parse_time  (const char *text, FtTime *out, GError **error);
/* "Tue 08:15:30" for a scene clock. */
void         ft_wall_format_time (FtTime t, char *buf, gsize len);

G_END_DECLS

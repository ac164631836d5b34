/* ft-vrptw.c — the VRPTW problem and solution types, their checks, the
 * Solomon instance reader (refusing malformed files with line and field)
 * and the SINTEF solution writer.
 */
#include "ft-vrptw-private.h"
#include "ft-file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

G_DEFINE_QUARK (ft-vrptw-error-quark, ft_vrptw_error)

/* ---- problem ------------------------------------------------------------ */

FtVrptwProblem *
ft_vrptw_problem_new (guint n_nodes, guint n_vehicles)
{
  g_return_val_if_fail (n_nodes > 0 && n_nodes <= FT_VRPTW_MAX_NODES, NULL);
  g_return_val_if_fail (n_vehicles <= FT_VRPTW_MAX_VEHICLES, NULL);
  FtVrptwProblem *p = g_new0 (FtVrptwProblem, 1);
  p->n_nodes = n_nodes;
  p->nodes = g_new0 (FtVrptwNode, n_nodes);
  for (guint i = 0; i < n_nodes; i++)
    p->nodes[i].id = i;
  p->dist = g_new0 (double, (gsize) n_nodes * n_nodes);
  p->time = p->dist;
  p->n_vehicles = n_vehicles;
  p->vehicles = g_new0 (FtVrptwVehicle, MAX (n_vehicles, 1));
  return p;
}

void
ft_vrptw_problem_split_time (FtVrptwProblem *p)
{
  if (p->time == p->dist)
    p->time = g_memdup2 (p->dist, (gsize) p->n_nodes * p->n_nodes * sizeof (double));
}

void
ft_vrptw_problem_set_euclidean (FtVrptwProblem *p)
{
  g_return_if_fail (p->x != NULL && p->y != NULL);
  guint n = p->n_nodes;
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j < n; j++)
      {
        double dx = p->x[i] - p->x[j], dy = p->y[i] - p->y[j];
        p->dist[(gsize) i * n + j] = sqrt (dx * dx + dy * dy);
      }
  if (p->time != p->dist)
    memcpy (p->time, p->dist, (gsize) n * n * sizeof (double));
}

void
ft_vrptw_problem_free (FtVrptwProblem *p)
{
  if (p == NULL)
    return;
  if (p->time != p->dist)
    g_free (p->time);
  g_free (p->dist);
  g_free (p->nodes);
  g_free (p->vehicles);
  g_free (p->x);
  g_free (p->y);
  g_free (p->name);
  g_free (p);
}

static gboolean
invalid (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, FT_VRPTW_ERROR, FT_VRPTW_ERROR_INVALID, msg);
  return FALSE;
}

gboolean
ft_vrptw_problem_validate (const FtVrptwProblem *p, GError **error)
{
  g_return_val_if_fail (p != NULL, FALSE);
  guint n = p->n_nodes;
  if (n == 0 || n > FT_VRPTW_MAX_NODES)
    return invalid (error, "%u nodes (1 to %u)", n, FT_VRPTW_MAX_NODES);
  if (p->n_vehicles == 0 || p->n_vehicles > FT_VRPTW_MAX_VEHICLES)
    return invalid (error, "%u vehicles (1 to %u)", p->n_vehicles, FT_VRPTW_MAX_VEHICLES);
  for (guint i = 0; i < n; i++)
    {
      const FtVrptwNode *nd = &p->nodes[i];
      if (!isfinite (nd->ready) || !isfinite (nd->due) || nd->ready > nd->due)
        return invalid (error, "node %u: window [%g, %g] is not ordered", nd->id, nd->ready, nd->due);
      if (!isfinite (nd->service) || nd->service < 0)
        return invalid (error, "node %u: service time %g is negative", nd->id, nd->service);
      if (nd->demand < 0)
        return invalid (error, "node %u: demand %d is negative", nd->id, nd->demand);
    }
  for (guint v = 0; v < p->n_vehicles; v++)
    {
      const FtVrptwVehicle *ve = &p->vehicles[v];
      if (ve->start_node >= n || ve->end_node >= n || p->nodes[ve->start_node].is_stop
          || p->nodes[ve->end_node].is_stop)
        return invalid (error, "vehicle %u: start or end is not a depot node", v);
      if (ve->capacity < 0 || !isfinite (ve->shift_start) || !isfinite (ve->shift_end)
          || ve->shift_start > ve->shift_end)
        return invalid (error, "vehicle %u: negative capacity or shift [%g, %g] not ordered", v,
                        ve->shift_start, ve->shift_end);
    }
  const double *t = p->time ? p->time : p->dist;
  for (gsize k = 0; k < (gsize) n * n; k++)
    if (!(p->dist[k] >= 0 && isfinite (p->dist[k]) && t[k] >= 0 && isfinite (t[k])))
      return invalid (error, "matrix entry %u -> %u is negative or not finite",
                      p->nodes[k / n].id, p->nodes[k % n].id);
  return TRUE;
}

/* ---- solution ----------------------------------------------------------- */

void
ft_vrptw_solution_free (FtVrptwSolution *s)
{
  if (s == NULL)
    return;
  for (guint r = 0; r < s->n_routes; r++)
    g_free (s->routes[r].stops);
  g_free (s->routes);
  g_free (s->unassigned);
  g_free (s);
}

double
ft_vrptw_solution_distance (const FtVrptwProblem *p, const FtVrptwSolution *s)
{
  double sum = 0;
  guint n = p->n_nodes;
  for (guint r = 0; r < s->n_routes; r++)
    {
      const FtVrptwRoute *rt = &s->routes[r];
      const FtVrptwVehicle *v = &p->vehicles[rt->vehicle];
      guint prev = v->start_node;
      for (guint i = 0; i < rt->n_stops; i++)
        {
          sum += p->dist[(gsize) prev * n + rt->stops[i]];
          prev = rt->stops[i];
        }
      if (rt->n_stops > 0)
        sum += p->dist[(gsize) prev * n + v->end_node];
    }
  return sum;
}

void
ft_vrptw_params_init (FtVrptwParams *params)
{
  memset (params, 0, sizeof *params);
  params->seed = 1;
  params->time_limit_ms = 1000;
  params->minimise_routes = TRUE;
}

/* ---- Solomon reader ----------------------------------------------------- */

static const char *const solomon_fields[] = {
  "CUST NO.", "XCOORD.", "YCOORD.", "DEMAND", "READY TIME", "DUE DATE", "SERVICE TIME",
};

typedef struct {
  const char *source;
  guint       line;
  GError    **error;
} Parse;

static gboolean
parse_error (Parse *ps, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
parse_error (Parse *ps, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (ps->error, FT_VRPTW_ERROR, FT_VRPTW_ERROR_PARSE, "%s:%u: %s", ps->source, ps->line, msg);
  return FALSE;
}

/* A number in [lo, hi]; integer when asked. */
static gboolean
parse_number (Parse *ps, const char *tok, const char *field, gboolean integer, double lo, double hi,
              double *out)
{
  char *end = NULL;
  errno = 0;
  double v = g_ascii_strtod (tok, &end);
  g_autofree char *shown = g_strescape (tok, NULL);
  if (end == tok || *end != '\0' || errno == ERANGE || !isfinite (v))
    return parse_error (ps, "field %s: '%.40s' is not a number", field, shown);
  if (integer && v != floor (v))
    return parse_error (ps, "field %s: '%.40s' is not a whole number", field, shown);
  if (v < lo || v > hi)
    return parse_error (ps, "field %s: %.40s is out of range (%g to %g)", field, shown, lo, hi);
  *out = v;
  return TRUE;
}

static char **
split_fields (const char *line)
{
  g_auto(GStrv) raw = g_strsplit_set (line, " \t", -1);
  GPtrArray *out = g_ptr_array_new ();
  for (guint i = 0; raw[i]; i++)
    if (raw[i][0] != '\0')
      g_ptr_array_add (out, g_strdup (raw[i]));
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}

static gboolean
starts_with_word (const char *line, const char *word)
{
  gsize n = strlen (word);
  return g_ascii_strncasecmp (line, word, n) == 0;
}

FtVrptwProblem *
ft_vrptw_solomon_parse (const char *text, gsize len, const char *source, GError **error)
{
  g_return_val_if_fail (text != NULL || len == 0, NULL);
  Parse ps = { source ? source : "input", 0, error };
  if (len == 0)
    text = "";
  if (memchr (text, '\0', len) != NULL)
    {
      const char *z = memchr (text, '\0', len);
      ps.line = 1;
      for (const char *c = text; c < z; c++)
        ps.line += *c == '\n';
      parse_error (&ps, "contains a NUL byte");
      return NULL;
    }
  enum { NAME, VEHICLE, VHEADER, VLINE, CUSTOMER, CHEADER, ROWS } state = NAME;
  static const char *const expect[] = {
    "an instance name", "the VEHICLE section", "the NUMBER CAPACITY header", "the vehicle number and capacity",
    "the CUSTOMER section", "the CUST NO. header", "customer rows",
  };
  g_autofree char *name = NULL;
  double n_veh = 0, cap = 0;
  GArray *rows = g_array_new (FALSE, FALSE, sizeof (double[7]));
  const char *p = text, *stop = text + len;
  while (p < stop)
    {
      const char *nl = memchr (p, '\n', stop - p);
      const char *e = nl ? nl : stop;
      ps.line++;
      g_autofree char *line = g_strndup (p, e - p);
      p = nl ? nl + 1 : stop;
      g_strstrip (line);     /* also the CR of CRLF */
      if (line[0] == '\0')
        continue;
      switch (state)
        {
        case NAME:
          if (strlen (line) > 200)
            {
              parse_error (&ps, "field instance name: longer than 200 characters");
              goto fail;
            }
          if (!g_utf8_validate (line, -1, NULL))
            {
              parse_error (&ps, "field instance name: not UTF-8 text");
              goto fail;
            }
          name = g_strdup (line);
          state = VEHICLE;
          break;
        case VEHICLE:
          if (g_ascii_strcasecmp (line, "VEHICLE") != 0)
            {
              parse_error (&ps, "expected the VEHICLE section");
              goto fail;
            }
          state = VHEADER;
          break;
        case VHEADER:
          if (!starts_with_word (line, "NUMBER"))
            {
              parse_error (&ps, "expected the header NUMBER CAPACITY");
              goto fail;
            }
          state = VLINE;
          break;
        case VLINE:
          {
            g_auto(GStrv) f = split_fields (line);
            if (g_strv_length (f) != 2)
              {
                parse_error (&ps, "vehicle line has %u fields, expected 2 (NUMBER, CAPACITY)", g_strv_length (f));
                goto fail;
              }
            if (!parse_number (&ps, f[0], "NUMBER", TRUE, 1, FT_VRPTW_MAX_VEHICLES, &n_veh)
                || !parse_number (&ps, f[1], "CAPACITY", TRUE, 1, 1e9, &cap))
              goto fail;
            state = CUSTOMER;
            break;
          }
        case CUSTOMER:
          if (g_ascii_strcasecmp (line, "CUSTOMER") != 0)
            {
              parse_error (&ps, "expected the CUSTOMER section");
              goto fail;
            }
          state = CHEADER;
          break;
        case CHEADER:
          if (!starts_with_word (line, "CUST"))
            {
              parse_error (&ps, "expected the header CUST NO. XCOORD. YCOORD. DEMAND READY TIME DUE DATE SERVICE TIME");
              goto fail;
            }
          state = ROWS;
          break;
        case ROWS:
          {
            g_auto(GStrv) f = split_fields (line);
            guint nf = g_strv_length (f);
            if (nf != 7)
              {
                parse_error (&ps, "customer row has %u fields, expected 7 (CUST NO., XCOORD., YCOORD., DEMAND, "
                             "READY TIME, DUE DATE, SERVICE TIME)", nf);
                goto fail;
              }
            if (rows->len >= FT_VRPTW_MAX_NODES)
              {
                parse_error (&ps, "more than %u customers", FT_VRPTW_MAX_NODES - 1);
                goto fail;
              }
            double v[7];
            static const double lo[7] = { 0, -1e7, -1e7, 0, 0, 0, 0 };
            static const double hi[7] = { FT_VRPTW_MAX_NODES, 1e7, 1e7, 1e9, 1e9, 1e9, 1e9 };
            for (guint k = 0; k < 7; k++)
              if (!parse_number (&ps, f[k], solomon_fields[k], k == 0 || k == 3, lo[k], hi[k], &v[k]))
                goto fail;
            if ((guint) v[0] != rows->len)
              {
                parse_error (&ps, "field CUST NO.: %u where %u was expected (rows are numbered from 0, the depot)",
                             (guint) v[0], rows->len);
                goto fail;
              }
            if (v[4] > v[5])
              {
                parse_error (&ps, "field DUE DATE: %g is before READY TIME %g", v[5], v[4]);
                goto fail;
              }
            if (rows->len == 0 && v[3] != 0)
              {
                parse_error (&ps, "field DEMAND: the depot (row 0) has demand %g, expected 0", v[3]);
                goto fail;
              }
            g_array_append_val (rows, v);
            break;
          }
        }
    }
  if (state != ROWS || rows->len < 2)
    {
      ps.line++;
      parse_error (&ps, "the file ended where %s %s expected", state == ROWS ? "a customer row (at least one besides the depot)"
                   : expect[state], state == ROWS ? "was" : "was");
      goto fail;
    }
  {
    guint n = rows->len;
    /* identical vehicles: more than one per customer is never used, and
     * each costs the solver memory in proportion to the customers */
    FtVrptwProblem *pb = ft_vrptw_problem_new (n, MIN ((guint) n_veh, n - 1));
    pb->name = g_steal_pointer (&name);
    pb->x = g_new (double, n);
    pb->y = g_new (double, n);
    for (guint i = 0; i < n; i++)
      {
        const double *v = (const double *) rows->data + 7 * (gsize) i;
        pb->x[i] = v[1];
        pb->y[i] = v[2];
        pb->nodes[i] = (FtVrptwNode) { v[4], v[5], v[6], (int) v[3], i != 0, i };
      }
    for (guint k = 0; k < pb->n_vehicles; k++)
      pb->vehicles[k] = (FtVrptwVehicle) { (int) cap, 0, 0, pb->nodes[0].ready, pb->nodes[0].due };
    ft_vrptw_problem_set_euclidean (pb);
    g_array_unref (rows);
    return pb;
  }
fail:
  g_array_unref (rows);
  return NULL;
}

#define SOLOMON_MAX_BYTES ((gsize) 8 * 1024 * 1024)

FtVrptwProblem *
ft_vrptw_solomon_load (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!ft_file_read (path, SOLOMON_MAX_BYTES, &text, &len, error))
    return NULL;
  return ft_vrptw_solomon_parse (text, len, path, error);
}

/* ---- SINTEF writer ------------------------------------------------------ */

#define AUTHORS_LINE "Authors       : " FT_VRPTW_SINTEF_AUTHORS

char *
ft_vrptw_solution_to_sintef (const FtVrptwProblem *p, const FtVrptwSolution *s, const char *reference)
{
  GString *out = g_string_new (NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = g_date_time_format (now, "%d.%m.%Y %H:%M:%S");
  g_string_append_printf (out, "Instance name : %s\n", p->name ? p->name : "unnamed");
  g_string_append (out, AUTHORS_LINE "\n");
  g_string_append_printf (out, "Date          : %s\n", date);
  g_string_append_printf (out, "Reference     : %s\n", reference ? reference : "");
  g_string_append (out, "Solution\n");
  for (guint r = 0; r < s->n_routes; r++)
    {
      g_string_append_printf (out, "Route %u :", r + 1);
      for (guint i = 0; i < s->routes[r].n_stops; i++)
        g_string_append_printf (out, " %u", p->nodes[s->routes[r].stops[i]].id);
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

gboolean
ft_vrptw_sintef_is_own (const char *path)
{
  char buf[256] = { 0 };
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return FALSE;
  size_t n = fread (buf, 1, sizeof buf - 1, f);
  fclose (f);
  buf[n] = '\0';
  const char *nl = strchr (buf, '\n');
  return g_str_has_prefix (buf, "Instance name : ") && nl != NULL
         && g_str_has_prefix (nl + 1, AUTHORS_LINE "\n");
}

/* ft-test-app.c — helpers the desktop-app tests share (see ft-test-app.h):
 * spinning the main loop, closing the app, taking screenshots, and real
 * clicks and keys through XTEST.
 */
#include "ft-config.h"
#include "ft-test-app.h"
#include "ft-screenshot.h"

#include <check.h>
#include <glib/gstdio.h>
#include <math.h>
#include <gdk/x11/gdkx.h>
#include <X11/Xlib.h>
#include <X11/keysym.h>
#include <X11/extensions/XTest.h>

FtTestApp *
ft_test_app_start (const char *path, const char *record_dir, int width, int height)
{
  gtk_init ();
  FtTestApp *t = g_new0 (FtTestApp, 1);
  g_autoptr(GError) error = NULL;
  t->app = ft_application_new ();
  ck_assert_msg (g_application_register (G_APPLICATION (t->app), NULL, &error), "%s",
                 error ? error->message : "the application did not register");
  t->session = ft_session_new ();
  if (record_dir)
    ft_session_set_record_dir (t->session, record_dir);
  g_autofree char *demo = g_build_filename (FT_SOURCE_DIR, "scenarios", "demo-city-phase1.scenario", NULL);
  FtSimScenario *sc = ft_sim_scenario_load (path ? path : demo, &error);
  ck_assert_msg (sc != NULL, "%s", error ? error->message : "");
  ck_assert_msg (ft_session_load (t->session, sc, NULL, &error), "%s", error ? error->message : "");
  t->win = ft_window_new (GTK_APPLICATION (t->app), t->session);
  if (width > 0 && height > 0)
    gtk_window_set_default_size (GTK_WINDOW (t->win), width, height);
  gtk_window_present (GTK_WINDOW (t->win));
  ft_test_app_spin (0.5);
  return t;
}

void
ft_test_app_finish (FtTestApp *t)
{
  ft_test_app_stop (t->app, t->win);
  g_clear_object (&t->session);
  g_free (t);
}

void
ft_test_app_spin (double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
}

void
ft_test_app_stop (FtApplication *app, FtWindow *win)
{
  gtk_window_destroy (GTK_WINDOW (win));
  ft_test_app_spin (0.1);
  g_object_unref (app);
}

char *
ft_test_app_shot_path (const char *name)
{
  const char *dir = g_getenv ("FT_SHOTS_DIR");
  if (dir)
    g_mkdir_with_parents (dir, 0755);
  return g_build_filename (dir ? dir : ".", name, NULL);
}

GdkTexture *
ft_test_app_shot (GtkWidget *widget, const char *name)
{
  GdkTexture *shot = ft_screenshot_widget (widget);
  gint64 until = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (shot == NULL && g_get_monotonic_time () < until)
    {
      ft_test_app_spin (0.05);
      shot = ft_screenshot_widget (widget);
    }
  ck_assert_msg (shot != NULL, "%s: the widget was not drawn within 5 s", name);
  g_autofree char *path = ft_test_app_shot_path (name);
  ck_assert_msg (gdk_texture_save_to_png (shot, path), "cannot save %s", path);
  return shot;
}

/* ---- real input through XTEST ------------------------------------------ */


static Display *
xdisplay (void)
{
  GdkDisplay *d = gdk_display_get_default ();
  ck_assert_msg (GDK_IS_X11_DISPLAY (d), "the input helpers need the X11 backend (Xvfb)");
  return gdk_x11_display_get_xdisplay (d);
}

/* Root-window coordinates of (x, y) in widget. */
static void
to_root (GtkWidget *widget, double x, double y, int *rx, int *ry)
{
  GtkNative *native = gtk_widget_get_native (widget);
  ck_assert (native != NULL);
  graphene_point_t in = GRAPHENE_POINT_INIT ((float) x, (float) y), out;
  ck_assert (gtk_widget_compute_point (widget, GTK_WIDGET (native), &in, &out));
  double sx = 0, sy = 0;
  gtk_native_get_surface_transform (native, &sx, &sy);
  Display *dpy = xdisplay ();
  Window xid = gdk_x11_surface_get_xid (gtk_native_get_surface (native)), child;
  XTranslateCoordinates (dpy, xid, DefaultRootWindow (dpy), (int) lround (out.x + sx),
                         (int) lround (out.y + sy), rx, ry, &child);
}

static void
modifiers (Display *dpy, GdkModifierType mods, gboolean press)
{
  if (mods & GDK_CONTROL_MASK)
    XTestFakeKeyEvent (dpy, XKeysymToKeycode (dpy, XK_Control_L), press, CurrentTime);
  if (mods & GDK_SHIFT_MASK)
    XTestFakeKeyEvent (dpy, XKeysymToKeycode (dpy, XK_Shift_L), press, CurrentTime);
}

void
ft_test_app_focus (GtkWindow *window)
{
  Display *dpy = xdisplay ();
  GdkSurface *s = gtk_native_get_surface (GTK_NATIVE (window));
  ft_test_app_spin (0.1);
  XRaiseWindow (dpy, gdk_x11_surface_get_xid (s));
  XSetInputFocus (dpy, gdk_x11_surface_get_xid (s), RevertToParent, CurrentTime);
  XSync (dpy, False);
  gint64 until = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  while (!gtk_window_is_active (window) && g_get_monotonic_time () < until)
    ft_test_app_spin (0.02);
}

void
ft_test_app_click (GtkWidget *widget, double x, double y, GdkModifierType mods)
{
  ft_test_app_drag (widget, x, y, x, y, mods);
}

void
ft_test_app_drag (GtkWidget *widget, double x0, double y0, double x1, double y1, GdkModifierType mods)
{
  Display *dpy = xdisplay ();
  int rx0, ry0, rx1, ry1;
  to_root (widget, x0, y0, &rx0, &ry0);
  to_root (widget, x1, y1, &rx1, &ry1);
  XTestFakeMotionEvent (dpy, -1, rx0, ry0, CurrentTime);
  XSync (dpy, False);
  ft_test_app_spin (0.05);
  modifiers (dpy, mods, TRUE);
  XTestFakeButtonEvent (dpy, 1, True, CurrentTime);
  XSync (dpy, False);
  ft_test_app_spin (0.05);
  if (rx1 != rx0 || ry1 != ry0)
    for (int i = 1; i <= 8; i++)
      {
        XTestFakeMotionEvent (dpy, -1, rx0 + (rx1 - rx0) * i / 8, ry0 + (ry1 - ry0) * i / 8, CurrentTime);
        XSync (dpy, False);
        ft_test_app_spin (0.02);
      }
  XTestFakeButtonEvent (dpy, 1, False, CurrentTime);
  modifiers (dpy, mods, FALSE);
  XSync (dpy, False);
  ft_test_app_spin (0.15);
}

void
ft_test_app_key (guint keyval, GdkModifierType mods)
{
  Display *dpy = xdisplay ();
  KeyCode code = XKeysymToKeycode (dpy, (KeySym) keyval);
  ck_assert_msg (code != 0, "no key code for keyval 0x%x", keyval);
  modifiers (dpy, mods, TRUE);
  XTestFakeKeyEvent (dpy, code, True, CurrentTime);
  XTestFakeKeyEvent (dpy, code, False, CurrentTime);
  modifiers (dpy, mods, FALSE);
  XSync (dpy, False);
  ft_test_app_spin (0.15);
}

GtkWidget *
ft_test_app_find_button (GtkWidget *root, const char *label)
{
  if (GTK_IS_BUTTON (root) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (root)), label) == 0 &&
      gtk_widget_get_mapped (root))
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *w = ft_test_app_find_button (c, label);
      if (w)
        return w;
    }
  return NULL;
}

GtkWidget *
ft_test_app_find_check (GtkWidget *root, const char *label)
{
  if (GTK_IS_CHECK_BUTTON (root) && g_strcmp0 (gtk_check_button_get_label (GTK_CHECK_BUTTON (root)), label) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *w = ft_test_app_find_check (c, label);
      if (w)
        return w;
    }
  return NULL;
}

GtkWidget *
ft_test_app_find_window (GType type)
{
  GtkWidget *found = NULL;
  GList *tops = gtk_window_list_toplevels ();
  for (GList *l = tops; l; l = l->next)
    if (G_TYPE_CHECK_INSTANCE_TYPE (l->data, type))
      found = l->data;
  g_list_free (tops);
  return found;
}

void
ft_test_app_press (GtkWidget *w)
{
  ck_assert_msg (w != NULL, "no such button");
  ck_assert_msg (gtk_widget_get_mapped (w), "the button is not on screen");
  gtk_widget_grab_focus (w);   /* scrolled into view first, as a person would */
  ft_test_app_spin (0.2);
  ck_assert_msg (gtk_widget_get_sensitive (w), "the button is not sensitive");
  ft_test_app_click (w, gtk_widget_get_width (w) / 2.0, gtk_widget_get_height (w) / 2.0, 0);
  ft_test_app_spin (0.2);
}

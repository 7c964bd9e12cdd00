// Recipe: React 19. React 19 sets properties and listens to custom events on custom elements.
// #region readme
import 'konpro-widget-guard';

export function Assistant({ onEnded }) {
  return (
    <konpro-widget-guard
      proxy="/api/widget-sessions"
      auto-start=""
      logout-trigger="#logout"
      onkonpro-session-end={(event) => onEnded(event.detail.reason)}
      style={{ display: 'block', height: 560 }}
    />
  );
}
// #endregion readme

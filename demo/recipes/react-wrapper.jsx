// Recipe: React 18 (and 19) through konpro-widget-guard/react, which sets properties and listens to events.
// #region readme
import { useRef } from 'react';
import { KonproWidgetGuard } from 'konpro-widget-guard/react';

export function Assistant({ onEnded }) {
  const guard = useRef(null); // the <konpro-widget-guard> element
  return (
    <>
      <KonproWidgetGuard
        ref={guard}
        proxy="/api/widget-sessions"
        autoStart
        strings={{ ended: 'You are signed out of the assistant.' }}
        onKonproSessionEnd={(event) => onEnded(event.detail.reason)}
        style={{ display: 'block', height: 560 }}
      />
      <button id="logout" onClick={() => guard.current?.logout()}>
        Sign out
      </button>
    </>
  );
}
// #endregion readme

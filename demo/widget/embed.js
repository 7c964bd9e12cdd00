// @ts-check
/**
 * The in-page form of the simulated Konpro avatar widget:
 *
 * ```html
 * <script type="module" src="/konpro/widget/embed.js"></script>
 * <konpro-avatar session-id="ws_..."></konpro-avatar>
 * ```
 *
 * Its runtime calls use the page's own `fetch`, so a guard watching the
 * vendor's URLs in the page sees them (and their "session terminated" answers).
 */
import { KonproAvatar } from './konpro-avatar.js';

export { KonproAvatar };

if (!customElements.get('konpro-avatar')) customElements.define('konpro-avatar', KonproAvatar);

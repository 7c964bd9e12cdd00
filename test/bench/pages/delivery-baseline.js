// Delivery, the baseline's side: the same sessions and the same logouts, done the plain
// way: remove the widget and send one fetch(DELETE) to the same proxy, with no retry.

window.mountSessions = (ids) => {
  for (const id of ids) {
    const widget = document.createElement('div');
    widget.className = 'widget';
    widget.dataset.session = id;
    widget.textContent = `Avatar for ${id}`;
    document.body.append(widget);
  }
};

window.logoutAll = (navigateTo) => {
  for (const widget of document.querySelectorAll('.widget')) {
    const id = widget.dataset.session;
    widget.remove();
    void fetch(`/bench/faulty/${id}`, {
      method: 'DELETE',
      headers: { 'X-Konpro-Guard': '1' },
      credentials: 'same-origin',
    }).catch(() => {});
  }
  if (navigateTo) location.href = navigateTo;
};

window.benchReady = true;

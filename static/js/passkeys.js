// Passkeys: ask the browser (navigator.credentials) and post its answer in the form.
//
// A form with data-passkey="create" adds a passkey; data-passkey="get" signs in
// with one. data-options names the <script type="application/json"> holding the
// server's options. The forms stay hidden where the browser has no passkeys.
// A "get" form with data-conditional also offers passkeys in the username
// field's suggestions (conditional mediation), where the browser can.
(() => {
  "use strict";

  const toBytes = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    return Uint8Array.from(atob(padded), (char) => char.charCodeAt(0)).buffer;
  };

  const toText = (buffer) => {
    let binary = "";
    new Uint8Array(buffer).forEach((byte) => {
      binary += String.fromCharCode(byte);
    });
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };

  const withIds = (list) => (list || []).map((item) => ({ ...item, id: toBytes(item.id) }));

  const creationOptions = (options) => ({
    ...options,
    challenge: toBytes(options.challenge),
    user: { ...options.user, id: toBytes(options.user.id) },
    excludeCredentials: withIds(options.excludeCredentials),
  });

  const requestOptions = (options) => ({
    ...options,
    challenge: toBytes(options.challenge),
    allowCredentials: withIds(options.allowCredentials),
  });

  const answer = (credential) => {
    const reply = credential.response;
    const response = { clientDataJSON: toText(reply.clientDataJSON) };
    if (reply.attestationObject) {
      response.attestationObject = toText(reply.attestationObject);
      response.transports = reply.getTransports ? reply.getTransports() : [];
    } else {
      response.authenticatorData = toText(reply.authenticatorData);
      response.signature = toText(reply.signature);
      if (reply.userHandle) response.userHandle = toText(reply.userHandle);
    }
    return JSON.stringify({
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment,
    });
  };

  const explain = (error) => {
    if (error.name === "NotAllowedError") {
      return "The passkey prompt was closed or timed out. You can try again.";
    }
    if (error.name === "InvalidStateError") {
      return "This passkey is already registered on your account.";
    }
    return "Your browser could not use a passkey here.";
  };

  const say = (form, text) => {
    const status = form.querySelector("[data-passkey-status]");
    if (status) status.textContent = text;
  };

  let waiting = null; // the AbortController of the request in progress

  const ask = async (form, mediation) => {
    const options = JSON.parse(document.getElementById(form.dataset.options).textContent);
    if (waiting) waiting.abort();
    const controller = new AbortController();
    waiting = controller;
    const credential =
      form.dataset.passkey === "create"
        ? await navigator.credentials.create({
            publicKey: creationOptions(options),
            signal: controller.signal,
          })
        : await navigator.credentials.get({
            publicKey: requestOptions(options),
            mediation,
            signal: controller.signal,
          });
    if (!credential) return;
    form.elements.credential.value = answer(credential);
    say(form, "Checking…");
    form.submit();
  };

  // A conditional request waits quietly for the member to pick a passkey in the
  // username field's suggestions: its failures are not theirs to read about.
  const start = (form, mediation) =>
    ask(form, mediation).catch((error) => {
      if (error.name !== "AbortError" && mediation !== "conditional") say(form, explain(error));
    });

  document.addEventListener("DOMContentLoaded", () => {
    if (!window.PublicKeyCredential) return;
    document.querySelectorAll("form[data-passkey]").forEach((form) => {
      form.hidden = false;
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        if (!form.reportValidity()) return;
        say(form, "Waiting for your passkey…");
        start(form, "optional");
      });
      if ("conditional" in form.dataset && PublicKeyCredential.isConditionalMediationAvailable) {
        PublicKeyCredential.isConditionalMediationAvailable().then((available) => {
          if (available) start(form, "conditional");
        });
      }
    });
  });
})();

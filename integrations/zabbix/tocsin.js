// tocsin webhook for Zabbix 6.0+: posts the media type's parameters, one per macro, to
// tocsin as a JSON object. tocsin answers 2xx once the event is stored; anything else is
// thrown, so Zabbix marks the alert failed and tries again (Attempts, Attempt interval).
var Tocsin = {
    // The key is part of the URL: keep it out of the log.
    masked: function (url) {
        return url.replace(/\/hooks\/[^\/?#]+/, '/hooks/***');
    },

    send: function (params) {
        var url = params.tocsin_url,
            request = new HttpRequest(),
            body = {},
            name,
            response,
            status;

        if (typeof url !== 'string' || !/^https?:\/\/[^\/]+\/hooks(\/|$)/.test(url.trim())) {
            throw 'tocsin_url must be http(s)://TOCSIN/hooks/KEY, the integration\'s URL';
        }
        url = url.trim();
        // Everything but the transport settings goes to tocsin, as text.
        for (name in params) {
            if (params.hasOwnProperty(name) && name !== 'tocsin_url' && name !== 'http_proxy') {
                body[name] = String(params[name]);
            }
        }
        if (typeof params.http_proxy === 'string' && params.http_proxy.trim() !== '') {
            request.setProxy(params.http_proxy.trim());
        }
        request.addHeader('Content-Type: application/json');
        Zabbix.log(4, '[tocsin] sending event ' + body.event_id + ' to ' + Tocsin.masked(url));
        response = request.post(url, JSON.stringify(body));
        status = request.getStatus();
        Zabbix.log(4, '[tocsin] HTTP ' + status + ': ' + response);
        if (status < 200 || status >= 300) {
            throw 'tocsin answered HTTP ' + status + ': ' + response;
        }
        return 'OK';
    }
};

try {
    return Tocsin.send(JSON.parse(value));
}
catch (error) {
    Zabbix.log(3, '[tocsin] notification failed: ' + error);
    throw 'tocsin notification failed: ' + error;
}

function $(e){return e===null?"null":Array.isArray(e)?"array":typeof e}function V(e){return $(e)==="object"}function je(e){return Array.isArray(e)&&e.length>0&&e.every(n=>"message"in n)}function re(e,n){return e.length<124?e:n}var xe="graphql-transport-ws";var C=(e=>(e[e.InternalServerError=4500]="InternalServerError",e[e.InternalClientError=4005]="InternalClientError",e[e.BadRequest=4400]="BadRequest",e[e.BadResponse=4004]="BadResponse",e[e.Unauthorized=4401]="Unauthorized",e[e.Forbidden=4403]="Forbidden",e[e.SubprotocolNotAcceptable=4406]="SubprotocolNotAcceptable",e[e.ConnectionInitialisationTimeout=4408]="ConnectionInitialisationTimeout",e[e.ConnectionAcknowledgementTimeout=4504]="ConnectionAcknowledgementTimeout",e[e.SubscriberAlreadyExists=4409]="SubscriberAlreadyExists",e[e.TooManyInitialisationRequests=4429]="TooManyInitialisationRequests",e))(C||{}),O=(e=>(e.ConnectionInit="connection_init",e.ConnectionAck="connection_ack",e.Ping="ping",e.Pong="pong",e.Subscribe="subscribe",e.Next="next",e.Error="error",e.Complete="complete",e))(O||{});function De(e){if(!V(e))throw new Error(`Message is expected to be an object, but got ${$(e)}`);if(!e.type)throw new Error("Message is missing the 'type' property");if(typeof e.type!="string")throw new Error(`Message is expects the 'type' property to be a string, but got ${$(e.type)}`);switch(e.type){case"connection_init":case"connection_ack":case"ping":case"pong":{if(e.payload!=null&&!V(e.payload))throw new Error(`"${e.type}" message expects the 'payload' property to be an object or nullish or missing, but got "${e.payload}"`);break}case"subscribe":{if(typeof e.id!="string")throw new Error(`"${e.type}" message expects the 'id' property to be a string, but got ${$(e.id)}`);if(!e.id)throw new Error(`"${e.type}" message requires a non-empty 'id' property`);if(!V(e.payload))throw new Error(`"${e.type}" message expects the 'payload' property to be an object, but got ${$(e.payload)}`);if(typeof e.payload.query!="string")throw new Error(`"${e.type}" message payload expects the 'query' property to be a string, but got ${$(e.payload.query)}`);if(e.payload.variables!=null&&!V(e.payload.variables))throw new Error(`"${e.type}" message payload expects the 'variables' property to be a an object or nullish or missing, but got ${$(e.payload.variables)}`);if(e.payload.operationName!=null&&$(e.payload.operationName)!=="string")throw new Error(`"${e.type}" message payload expects the 'operationName' property to be a string or nullish or missing, but got ${$(e.payload.operationName)}`);if(e.payload.extensions!=null&&!V(e.payload.extensions))throw new Error(`"${e.type}" message payload expects the 'extensions' property to be a an object or nullish or missing, but got ${$(e.payload.extensions)}`);break}case"next":{if(typeof e.id!="string")throw new Error(`"${e.type}" message expects the 'id' property to be a string, but got ${$(e.id)}`);if(!e.id)throw new Error(`"${e.type}" message requires a non-empty 'id' property`);if(!V(e.payload))throw new Error(`"${e.type}" message expects the 'payload' property to be an object, but got ${$(e.payload)}`);break}case"error":{if(typeof e.id!="string")throw new Error(`"${e.type}" message expects the 'id' property to be a string, but got ${$(e.id)}`);if(!e.id)throw new Error(`"${e.type}" message requires a non-empty 'id' property`);if(!je(e.payload))throw new Error(`"${e.type}" message expects the 'payload' property to be an array of GraphQL errors, but got ${JSON.stringify(e.payload)}`);break}case"complete":{if(typeof e.id!="string")throw new Error(`"${e.type}" message expects the 'id' property to be a string, but got ${$(e.id)}`);if(!e.id)throw new Error(`"${e.type}" message requires a non-empty 'id' property`);break}default:throw new Error(`Invalid message 'type' property "${e.type}"`)}return e}function ke(e,n){return De(typeof e=="string"?JSON.parse(e,n):e)}function G(e,n){return De(e),JSON.stringify(e,n)}function se(e){let{url:n,connectionParams:o,lazy:r=!0,onNonLazyError:a=console.error,lazyCloseTimeout:i=0,keepAlive:m=0,disablePong:c,connectionAckWaitTimeout:f=0,retryAttempts:w=5,retryWait:P=async function(y){let l=Math.pow(2,y);await new Promise(g=>setTimeout(g,l*1e3+Math.floor(Math.random()*2700+300)))},shouldRetry:_=oe,on:b,webSocketImpl:F,generateID:Q=function(){return"xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g,y=>{let l=Math.random()*16|0;return(y=="x"?l:l&3|8).toString(16)})},jsonMessageReplacer:v,jsonMessageReviver:I}=e,s;if(F){if(!Ke(F))throw new Error("Invalid WebSocket implementation provided");s=F}else typeof WebSocket<"u"?s=WebSocket:typeof global<"u"?s=global.WebSocket||global.MozWebSocket:typeof window<"u"&&(s=window.WebSocket||window.MozWebSocket);if(!s)throw new Error("WebSocket implementation missing; on Node you can `import WebSocket from 'ws';` and pass `webSocketImpl: WebSocket` to `createClient`");let h=s,p=(()=>{let u=(()=>{let l={};return{on(g,x){return l[g]=x,()=>{delete l[g]}},emit(g){"id"in g&&l[g.id]?.(g)}}})(),y={connecting:b?.connecting?[b.connecting]:[],opened:b?.opened?[b.opened]:[],connected:b?.connected?[b.connected]:[],ping:b?.ping?[b.ping]:[],pong:b?.pong?[b.pong]:[],message:b?.message?[u.emit,b.message]:[u.emit],closed:b?.closed?[b.closed]:[],error:b?.error?[b.error]:[]};return{onMessage:u.on,on(l,g){let x=y[l];return x.push(g),()=>{let D=x.indexOf(g);D>-1&&x.splice(D,1)}},emit(l,...g){for(let x of[...y[l]])x(...g)}}})();function L(u){let y=[p.on("error",l=>{y.forEach(g=>g()),u(l)}),p.on("closed",l=>{y.forEach(g=>g()),u(l)})];return()=>y.forEach(l=>l())}let W,A=0,H,j=!1,Y=0,fe=!1;async function ye(){clearTimeout(H);let[u,y]=await(W??(W=new Promise((x,D)=>(async()=>{if(j){if(await P(Y),!A)return W=void 0,D({code:1e3,reason:"All Subscriptions Gone"});Y++}p.emit("connecting",j);let d=new h(typeof n=="function"?await n():n,xe),U,z;function J(){isFinite(m)&&m>0&&(clearTimeout(z),z=setTimeout(()=>{d.readyState===h.OPEN&&(d.send(G({type:O.Ping})),p.emit("ping",!1,void 0))},m))}L(T=>{W=void 0,clearTimeout(U),clearTimeout(z),D(T),T instanceof Z&&(d.close(4499,"Terminated"),d.onerror=null,d.onclose=null)}),d.onerror=T=>p.emit("error",T),d.onclose=T=>p.emit("closed",T),d.onopen=async()=>{try{p.emit("opened",d);let T=typeof o=="function"?await o():o;if(d.readyState!==h.OPEN)return;d.send(G(T?{type:O.ConnectionInit,payload:T}:{type:O.ConnectionInit},v)),isFinite(f)&&f>0&&(U=setTimeout(()=>{d.close(C.ConnectionAcknowledgementTimeout,"Connection acknowledgement timeout")},f)),J()}catch(T){p.emit("error",T),d.close(C.InternalClientError,re(T instanceof Error?T.message:String(T),"Internal client error"))}};let B=!1;d.onmessage=({data:T})=>{try{let S=ke(T,I);if(p.emit("message",S),S.type==="ping"||S.type==="pong"){p.emit(S.type,!0,S.payload),S.type==="pong"?J():c||(d.send(G(S.payload?{type:O.Pong,payload:S.payload}:{type:O.Pong},v)),p.emit("pong",!1,S.payload));return}if(B)return;if(S.type!==O.ConnectionAck)throw new Error(`First message cannot be of type ${S.type}`);clearTimeout(U),B=!0,p.emit("connected",d,S.payload,j),j=!1,Y=0;let we=new Promise((at,He)=>L(He));we.catch(()=>{}),x([d,we])}catch(S){d.onmessage=null,p.emit("error",S),d.close(C.BadResponse,re(S instanceof Error?S.message:String(S),"Bad response"))}}})())));u.readyState===h.CLOSING&&await y;let l=()=>{},g=new Promise(x=>l=x);return[u,l,new Promise((x,D)=>{let d=L(D);u.readyState!==h.OPEN&&y.catch(D),g.then(()=>{if(d(),!A){let U=()=>u.close(1e3,"Normal Closure");isFinite(i)&&i>0?(clearTimeout(H),H=setTimeout(()=>{!A&&u.readyState===h.OPEN&&U()},i)):U()}x()})})]}function be(u){if(oe(u)&&(Ze(u.code)||[C.InternalServerError,C.InternalClientError,C.BadRequest,C.BadResponse,C.Unauthorized,C.SubprotocolNotAcceptable,C.SubscriberAlreadyExists,C.TooManyInitialisationRequests].includes(u.code)))throw u;if(fe)return!1;if(oe(u)&&u.code===1e3)return A>0;if(!w||Y>=w||!_(u))throw u;return j=!0}r||(async()=>{for(A++;;)try{let[,,u]=await ye();await u}catch(u){try{if(!be(u))return}catch(y){return a?.(y)}}})();function he(u,y){let l=Q(u),g=!1,x=!1,D=()=>{A--,g=!0};return(async()=>{for(A++;;)try{let[d,U,z]=await ye();if(g)return z.catch(()=>{}),U();let J=p.onMessage(l,B=>{switch(B.type){case O.Next:{y.next(B.payload);return}case O.Error:{x=!0,g=!0,y.error(B.payload),D();return}case O.Complete:{g=!0,D();return}}});d.send(G({id:l,type:O.Subscribe,payload:u},v)),D=()=>{!g&&d.readyState===h.OPEN&&d.send(G({id:l,type:O.Complete},v)),A--,g=!0,U()},await z.finally(J);return}catch(d){if(!be(d))return}})().then(()=>{x||y.complete()}).catch(d=>{y.error(d)}),()=>{g||D()}}return{on:p.on,subscribe:he,iterate(u){let y=[],l={done:!1,error:null,resolve:()=>{}},g=he(u,{next(D){y.push(D),l.resolve()},error(D){l.done=!0,l.error=D,l.resolve()},complete(){l.done=!0,l.resolve()}}),x=(async function*(){for(;;){for(y.length||await new Promise(d=>l.resolve=d);y.length;)yield y.shift();if(l.error)throw l.error;if(l.done)return}})();return x.throw=async D=>(l.done||(l.done=!0,l.error=D,l.resolve()),{done:!0,value:void 0}),x.return=async()=>(g(),{done:!0,value:void 0}),x},async dispose(){if(fe=!0,W){let[u]=await W;u.close(1e3,"Normal Closure")}},terminate(){W&&p.emit("closed",new Z)}}}var Z=class extends Error{name="TerminatedCloseEvent";message="4499: Terminated";code=4499;reason="Terminated";wasClean=!1};function oe(e){return V(e)&&"code"in e&&"reason"in e}function Ze(e){return[1e3,1001,1006,1005,1012,1013,1014].includes(e)?!1:e>=1e3&&e<=1999}function Ke(e){return typeof e=="function"&&"constructor"in e&&"CLOSED"in e&&"CLOSING"in e&&"CONNECTING"in e&&"OPEN"in e}var N=class extends Error{constructor(o,r,a){super(o);this.code=r;this.retryAfter=a}code;retryAfter;get readable(){switch(this.code){case"RATE_LIMITED":return`Too many requests: try again in ${this.retryAfter??60} s.`;case"UNAVAILABLE":return`The service is unavailable for a moment: try again${this.retryAfter?` in ${this.retryAfter} s`:""}.`;case"FORBIDDEN":return`Not allowed: ${this.message}`;case"NETWORK":return"The server cannot be reached: check your connection and try again.";case"INTERNAL":return"Something went wrong on the server; try again.";default:return this.message}}},ie=new URL("../graphql",window.location.href),X=class{constructor(n){this.options=n}options;socket=null;async request(n,o){return this.send(ie.href,{body:JSON.stringify({query:n.toString(),variables:o}),headers:{"content-type":"application/json"}})}async upload(n,o){let r=new FormData;return r.append("operations",JSON.stringify({query:n.toString(),variables:{...o,file:null}})),r.append("map",JSON.stringify({0:["variables.file"]})),r.append("0",o.file,o.file.name),this.send(`${ie.href}/upload`,{body:r,headers:{}})}subscribe(n,o,r,a){return this.client().subscribe({query:n.toString(),variables:o},{next:i=>{i.errors?.length?a(this.failure(i.errors)):i.data&&r(i.data)},error:()=>a(new N("The live connection failed.","NETWORK")),complete:()=>{}})}close(){this.socket?.dispose(),this.socket=null}client(){return this.socket??=se({url:ie.href.replace(/^http/,"ws"),connectionParams:()=>{let n=this.options.token();return n?{authorization:`Bearer ${n}`}:{}},lazy:!0,retryAttempts:5}),this.socket}async send(n,o){let r=this.options.token(),a={accept:"application/json",...o.headers};r&&(a.authorization=`Bearer ${r}`);let i;try{i=await(await fetch(n,{method:"POST",body:o.body,headers:a})).json()}catch{throw new N("The server cannot be reached.","NETWORK")}if(i.errors?.length)throw this.failure(i.errors);if(!i.data)throw new N("The server sent no data.","INTERNAL");return i.data}failure(n){let o=n[0],r=new N(o?.message??"Unknown error",o?.extensions?.code??"INTERNAL",o?.extensions?.retryAfter);return r.code==="UNAUTHENTICATED"&&this.options.onUnauthenticated(r),r}};function R(e){return e instanceof N?e.readable:"Something went wrong; try again."}var ee="askbase.console.session";function ae(e,n){let o=e.hash.replace(/^#/,"");if(o.startsWith("/")||o==="")return{kind:"none"};let r=new URLSearchParams(o);if(!["code","access_token","error","error_description"].some(c=>r.has(c)))return{kind:"none"};n.replaceState(null,"",e.pathname+e.search);let i=r.get("code"),m=r.get("access_token");if(i)return{kind:"code",code:i};if(m){let c=Number(r.get("expires_in")??"3600"),f={accessToken:m,expiresAt:Date.now()+(Number.isFinite(c)?c:3600)*1e3},w=r.get("refresh_token");return w&&(f.refreshToken=w),{kind:"session",session:f}}return{kind:"error",message:r.get("error_description")??r.get("error")??"Sign-in failed."}}function Se(e){try{let n=JSON.parse(e.getItem(ee)??"null");if(n&&typeof n.accessToken=="string"&&n.expiresAt>Date.now())return n}catch{}return e.removeItem(ee),null}function Te(e,n){e.setItem(ee,JSON.stringify(n))}function Ee(e){e.removeItem(ee)}function t(e,n={},...o){let r=document.createElement(e);for(let[a,i]of Object.entries(n))i==null||i===!1||(typeof i=="function"?r.addEventListener(a.replace(/^on/,"").toLowerCase(),i):i===!0?r.setAttribute(a,""):r.setAttribute(a,String(i)));return le(r,...o),r}function le(e,...n){for(let o of n)o==null||o===!1||e.append(typeof o=="number"?String(o):o)}function k(e,...n){e.replaceChildren(),le(e,...n)}var Ye=0;function E(e,n,o){let r=n.id||`field-${++Ye}`;n.id=r;let a=t("div",{class:"field"},t("label",{for:r},e),n);if(o){let i=`${r}-hint`;n.setAttribute("aria-describedby",i),le(a,t("p",{class:"hint",id:i},o))}return a}function Ae(e){return e<1024?`${e} B`:e<1024*1024?`${(e/1024).toFixed(1)} KB`:`${(e/1024/1024).toFixed(1)} MB`}function te(e){return new Date(e).toLocaleString(void 0,{dateStyle:"medium",timeStyle:"short"})}var M=class extends String{__apiType;value;__meta__;constructor(n,o){super(n),this.value=n,this.__meta__=o}toString(){return this.value}},wt=new M(`
    fragment DocumentFields on Document {
  id
  filename
  contentType
  sizeBytes
  status
  error
  chunkCount
  createdAt
  sourceUrl
  downloadUrl
}
    `,{fragmentName:"DocumentFields"}),xt=new M(`
    fragment WebsiteFields on Website {
  id
  name
  domain
  createdAt
  settings {
    title
    welcomeMessage
    suggestedQuestions
    theme
    systemPrompt
    model
    temperature
    allowedOrigins
    timeZone
    retentionDays
  }
}
    `,{fragmentName:"WebsiteFields"}),ve=new M(`
    query Documents($websiteId: ID!, $first: Int!, $after: String) {
  documents(websiteId: $websiteId, first: $first, after: $after) {
    nodes {
      ...DocumentFields
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
    fragment DocumentFields on Document {
  id
  filename
  contentType
  sizeBytes
  status
  error
  chunkCount
  createdAt
  sourceUrl
  downloadUrl
}`),Ie=new M(`
    mutation UploadDocument($websiteId: ID!, $file: Upload!) {
  uploadDocument(websiteId: $websiteId, file: $file) {
    ...DocumentFields
  }
}
    fragment DocumentFields on Document {
  id
  filename
  contentType
  sizeBytes
  status
  error
  chunkCount
  createdAt
  sourceUrl
  downloadUrl
}`),We=new M(`
    mutation DeleteDocument($id: ID!) {
  deleteDocument(id: $id)
}
    `),$e=new M(`
    subscription DocumentStatus($documentId: ID!) {
  documentStatus(documentId: $documentId) {
    ...DocumentFields
  }
}
    fragment DocumentFields on Document {
  id
  filename
  contentType
  sizeBytes
  status
  error
  chunkCount
  createdAt
  sourceUrl
  downloadUrl
}`),Re=new M(`
    mutation RedeemConsoleCode($code: String!) {
  redeemConsoleCode(code: $code) {
    accessToken
    expiresAt
  }
}
    `),Me=new M(`
    query Websites {
  websites {
    ...WebsiteFields
  }
}
    fragment WebsiteFields on Website {
  id
  name
  domain
  createdAt
  settings {
    title
    welcomeMessage
    suggestedQuestions
    theme
    systemPrompt
    model
    temperature
    allowedOrigins
    timeZone
    retentionDays
  }
}`),Ce=new M(`
    query Website($id: ID!) {
  website(id: $id) {
    ...WebsiteFields
  }
}
    fragment WebsiteFields on Website {
  id
  name
  domain
  createdAt
  settings {
    title
    welcomeMessage
    suggestedQuestions
    theme
    systemPrompt
    model
    temperature
    allowedOrigins
    timeZone
    retentionDays
  }
}`),Oe=new M(`
    mutation CreateWebsite($input: CreateWebsiteInput!) {
  createWebsite(input: $input) {
    ...WebsiteFields
  }
}
    fragment WebsiteFields on Website {
  id
  name
  domain
  createdAt
  settings {
    title
    welcomeMessage
    suggestedQuestions
    theme
    systemPrompt
    model
    temperature
    allowedOrigins
    timeZone
    retentionDays
  }
}`),Le=new M(`
    mutation UpdateWebsite($id: ID!, $input: UpdateWebsiteInput!) {
  updateWebsite(id: $id, input: $input) {
    ...WebsiteFields
  }
}
    fragment WebsiteFields on Website {
  id
  name
  domain
  createdAt
  settings {
    title
    welcomeMessage
    suggestedQuestions
    theme
    systemPrompt
    model
    temperature
    allowedOrigins
    timeZone
    retentionDays
  }
}`),Ne=new M(`
    mutation DeleteWebsite($id: ID!) {
  deleteWebsite(id: $id)
}
    `);function Pe(e){return t("section",{class:"card narrow","aria-labelledby":"sign-in-title"},t("h1",{id:"sign-in-title"},"Sign in to askbase"),e?t("p",{class:"error",role:"alert"},e):null,t("p",{},"On the server, run this command and open the link it prints (valid for 10 minutes, once):"),t("pre",{},t("code",{},"askbase console-link")),t("p",{class:"hint"},"askbase serve also prints a sign-in link when it starts in development."))}var Je=50,Xe=".pdf,.docx,.html,.htm,.md,.markdown,.txt,text/plain,text/markdown,text/html,application/pdf",et={PENDING:"Waiting",PROCESSING:"Processing",READY:"Ready",FAILED:"Failed"};function Fe(e,n,o){let r=new Map,a=new Map,i=t("tbody"),m=t("table",{class:"documents"},t("caption",{class:"visually-hidden"},"Documents"),t("thead",{},t("tr",{},t("th",{scope:"col"},"File"),t("th",{scope:"col"},"Status"),t("th",{scope:"col"},"Size"),t("th",{scope:"col"},"Added"),t("th",{scope:"col"},t("span",{class:"visually-hidden"},"Actions")))),i),c=t("p",{class:"muted"},"No documents yet: drop files above, or choose them."),f=t("button",{type:"button",class:"secondary",hidden:!0},"Show more"),w=t("p",{class:"muted","aria-busy":"true"},"Loading documents…"),P=null;function _(s){if(s.status==="READY"||s.status==="FAILED"||a.has(s.id))return;let h=e.api.subscribe($e,{documentId:s.id},({documentStatus:p})=>b(p),p=>e.notify(`${s.filename}: ${p.readable}`,"error"));a.set(s.id,h)}function b(s,h=!1){let p=t("td",{},t("span",{class:`status status-${s.status.toLowerCase()}`},et[s.status]),s.status==="READY"?t("span",{class:"muted"},` · ${s.chunkCount} ${s.chunkCount===1?"passage":"passages"}`):null,s.error?t("p",{class:"error"},s.error):null),L=t("button",{type:"button",class:"secondary small","aria-label":`Delete ${s.filename}`},"Delete");L.addEventListener("click",()=>{window.confirm(`Delete ${s.filename}? Answers will no longer cite it.`)&&(L.disabled=!0,e.api.request(We,{id:s.id}).then(()=>{a.get(s.id)?.(),a.delete(s.id),r.get(s.id)?.remove(),r.delete(s.id),c.hidden=r.size>0,e.notify(`${s.filename} deleted.`)}).catch(H=>{L.disabled=!1,e.notify(R(H),"error")}))});let W=t("tr",{"data-document":s.id,"data-status":s.status},t("th",{scope:"row"},t("a",{href:s.downloadUrl,download:s.filename},s.filename)),p,t("td",{},Ae(s.sizeBytes)),t("td",{},te(s.createdAt)),t("td",{},L)),A=r.get(s.id);A?A.replaceWith(W):h?i.prepend(W):i.append(W),r.set(s.id,W),c.hidden=r.size>0,s.status==="READY"||s.status==="FAILED"?(a.get(s.id)?.(),a.delete(s.id)):_(s)}function F(){f.hidden=!0,e.api.request(ve,{websiteId:n.id,first:Je,after:P}).then(({documents:s})=>{w.hidden=!0;for(let h of s.nodes)b(h);P=s.pageInfo.endCursor??null,f.hidden=!s.pageInfo.hasNextPage,c.hidden=r.size>0}).catch(s=>{w.removeAttribute("aria-busy"),w.className="error",w.setAttribute("role","alert"),w.textContent=R(s)})}f.addEventListener("click",F);function Q(s){for(let h of s)e.notify(`Uploading ${h.name}…`),e.api.upload(Ie,{websiteId:n.id,file:h}).then(({uploadDocument:p})=>{b(p,!0),e.notify(`${h.name} uploaded.`)}).catch(p=>e.notify(`${h.name}: ${R(p)}`,"error"))}let v=t("input",{type:"file",multiple:!0,accept:Xe,id:"document-files",class:"visually-hidden"});v.addEventListener("change",()=>{v.files&&Q(Array.from(v.files)),v.value=""});let I=t("div",{class:"drop","data-drop":"documents"},t("p",{},"Drop files here (PDF, DOCX, HTML, Markdown, text), or "),t("label",{for:"document-files",class:"button"},"choose files"),v);return I.addEventListener("dragover",s=>{s.preventDefault(),I.classList.add("over")}),I.addEventListener("dragleave",()=>I.classList.remove("over")),I.addEventListener("drop",s=>{s.preventDefault(),I.classList.remove("over"),s.dataTransfer?.files.length&&Q(Array.from(s.dataTransfer.files))}),c.hidden=!0,k(o,t("section",{class:"card","aria-labelledby":"documents-title"},t("h2",{id:"documents-title"},"Documents"),I,w,c,m,f)),F(),()=>{for(let s of a.values())s();a.clear()}}var tt=/^https?:\/\/(localhost|\[[0-9a-f:]+\]|[0-9.]+|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9-]{1,63})(:\d{1,5})?$/;function Ue(e){let n=[];for(let o of e.split(`
`)){let r=o.trim().replace(/\/+$/,"").toLowerCase();if(r){if(r!=="*"&&!tt.test(r))return{error:`"${o.trim()}" is not an origin like https://example.com (no path), or *.`};n.includes(r)||n.push(r)}}return n.length>50?{error:"At most 50 origins."}:{origins:n}}function Ve(e){return e.split(`
`).map(n=>n.trim()).filter(Boolean)}function nt(){return Intl.supportedValuesOf?.("timeZone")??[]}function rt(e){let n=e?.primary;return typeof n=="string"&&/^#[0-9a-f]{6}$/i.test(n)?n:"#0f766e"}function _e(e,n){let o=n.settings,r=t("input",{name:"name",required:!0,maxlength:200,value:n.name}),a=t("textarea",{name:"allowedOrigins",rows:3});a.value=(o.allowedOrigins??[]).join(`
`);let i=t("p",{class:"error",role:"alert",hidden:!0}),m=t("input",{name:"title",maxlength:200,value:o.title}),c=t("textarea",{name:"welcomeMessage",rows:2,maxlength:1e3});c.value=o.welcomeMessage??"";let f=t("textarea",{name:"suggestedQuestions",rows:3});f.value=o.suggestedQuestions.join(`
`);let w=t("textarea",{name:"systemPrompt",rows:5,maxlength:8e3});w.value=o.systemPrompt??"";let P=t("input",{name:"model",maxlength:100,value:o.model??"",placeholder:"The server's default"}),_=t("input",{name:"temperature",type:"number",min:0,max:2,step:.1,value:o.temperature??"",placeholder:"Default"}),b=t("input",{name:"primaryColor",type:"color",value:rt(o.theme)}),F=t("input",{name:"timeZone",list:"time-zones",value:o.timeZone,autocomplete:"off"}),Q=t("datalist",{id:"time-zones"},...nt().map(p=>t("option",{value:p}))),v=t("input",{name:"retentionDays",type:"number",min:1,step:1,value:o.retentionDays??"",placeholder:"Keep chats"}),I=t("p",{role:"status",class:"muted"}),s=t("button",{type:"submit"},"Save settings"),h=t("form",{class:"card","aria-labelledby":"settings-title"},t("h2",{id:"settings-title"},"Settings"),E("Name",r),E("Allowed origins",a,"One a line, like https://shop.example, or * for any; the widget works only on these pages."),i,E("Widget title",m),E("Welcome message",c),E("Suggested questions",f,"One a line, at most 10."),E("System prompt",w,"Instructions for the model; empty: the built-in prompt."),E("Model",P),E("Temperature",_,"0 to 2; empty: the default."),E("Widget color",b),E("Time zone",F,"An IANA name like Europe/Berlin: activity by day follows it."),Q,E("Delete chats after (days)",v,"Empty: chats are kept."),I,s);return h.addEventListener("submit",p=>{p.preventDefault();let L=Ue(a.value);if("error"in L){i.textContent=L.error,i.hidden=!1,a.setAttribute("aria-invalid","true"),a.focus();return}i.hidden=!0,a.removeAttribute("aria-invalid");let W={...o.theme??{},primary:b.value};s.disabled=!0,I.textContent="Saving…",e.api.request(Le,{id:n.id,input:{name:r.value.trim(),allowedOrigins:L.origins,title:m.value.trim()||null,welcomeMessage:c.value.trim()||null,suggestedQuestions:Ve(f.value),systemPrompt:w.value.trim()||null,model:P.value.trim()||null,temperature:_.value===""?null:Number(_.value),theme:W,timeZone:F.value.trim()||null,retentionDays:v.value===""?null:Number(v.value)}}).then(({updateWebsite:A})=>{Object.assign(n,A),I.textContent="Saved.",e.notify("Settings saved.")}).catch(A=>{I.textContent="",e.notify(R(A),"error")}).finally(()=>{s.disabled=!1})}),t("div",{},h,ot(e,n))}function ot(e,n){let o=t("input",{name:"confirmDomain",autocomplete:"off"}),r=t("button",{type:"submit",class:"danger",disabled:!0},"Delete for good");o.addEventListener("input",()=>{r.disabled=o.value.trim()!==n.domain});let a=t("button",{type:"button",class:"secondary"},"Cancel"),i=t("dialog",{"aria-labelledby":"delete-title"},t("form",{method:"dialog"},t("h2",{id:"delete-title"},`Delete ${n.name}?`),t("p",{},"Its chats, documents and sources are deleted with it. This cannot be undone."),E(`Type ${n.domain} to confirm`,o),t("div",{class:"actions"},a,r)));a.addEventListener("click",()=>i.close()),i.querySelector("form")?.addEventListener("submit",c=>{c.preventDefault(),r.disabled=!0,e.api.request(Ne,{id:n.id}).then(()=>{i.close(),e.notify(`Website ${n.name} deleted.`),e.go("/")}).catch(f=>{r.disabled=!1,e.notify(R(f),"error")})});let m=t("button",{type:"button",class:"danger"},"Delete website…");return m.addEventListener("click",()=>{o.value="",r.disabled=!0,i.showModal()}),t("section",{class:"card","aria-labelledby":"danger-title"},t("h2",{id:"danger-title"},"Delete this website"),m,i)}function qe(e,n,o,r){let a=()=>{};k(r,t("p",{class:"muted","aria-busy":"true"},"Loading the website…"));let i=!1;return e.api.request(Ce,{id:n}).then(({website:m})=>{if(i)return;if(!m){k(r,t("p",{class:"error",role:"alert"},"This website does not exist, or is not yours."));return}let c=(w,P)=>t("a",{href:`#/websites/${n}${w==="settings"?"":`/${w}`}`,"aria-current":o===w?"page":null},P),f=t("div");k(r,t("p",{},t("a",{href:"#/"},"← All websites")),t("h1",{},m.name),t("p",{class:"muted"},m.domain),t("nav",{class:"tabs","aria-label":"Website"},c("settings","Settings"),c("knowledge","Knowledge")),f),o==="knowledge"?a=Fe(e,m,f):k(f,_e(e,m))}).catch(m=>{i||k(r,t("p",{class:"error",role:"alert"},R(m)))}),()=>{i=!0,a()}}function Qe(e){let n=t("div",{"aria-busy":"true"},t("p",{class:"muted"},"Loading websites…")),o=t("input",{name:"domain",required:!0,autocomplete:"off",placeholder:"docs.example.com"}),r=t("input",{name:"name",autocomplete:"off",placeholder:"Optional"}),a=t("p",{class:"error",role:"alert",hidden:!0}),i=t("form",{class:"card","aria-labelledby":"create-title"},t("h2",{id:"create-title"},"New website"),E("Domain",o,"The host name your pages are served from, without https:// or a path."),E("Name",r),a,t("button",{type:"submit"},"Create website"));return i.addEventListener("submit",m=>{m.preventDefault(),a.hidden=!0;let c=i.querySelector("button");c&&(c.disabled=!0),e.api.request(Oe,{input:{domain:o.value.trim(),name:r.value.trim()||null}}).then(({createWebsite:f})=>{e.notify(`Website ${f.name} created.`),e.go(`/websites/${f.id}`)}).catch(f=>{a.textContent=R(f),a.hidden=!1}).finally(()=>{c&&(c.disabled=!1)})}),e.api.request(Me,{}).then(({websites:m})=>{if(n.removeAttribute("aria-busy"),m.length===0){k(n,t("p",{class:"muted"},"No website yet: create your first one below."));return}k(n,t("ul",{class:"list"},...m.map(c=>t("li",{},t("a",{href:`#/websites/${c.id}`},c.name),t("span",{class:"muted"},` ${c.domain} · created ${te(c.createdAt)}`)))))}).catch(m=>{n.removeAttribute("aria-busy"),k(n,t("p",{class:"error",role:"alert"},R(m)))}),t("section",{"aria-labelledby":"websites-title"},t("h1",{id:"websites-title"},"Websites"),n,i)}var st=ae(window.location,window.history),me=window.sessionStorage,q=Se(me),de,K=document.getElementById("main"),it=document.getElementById("live"),ze=document.getElementById("account"),pe=new X({token:()=>q?.accessToken??null,onUnauthenticated:()=>{q&&ge("Your session has ended: sign in again.")}}),Be={api:pe,notify(e,n="info"){k(it,t("p",{class:n==="error"?"error":""},e))},go(e){window.location.hash=`#${e}`}},ue=()=>{};function ce(e){q=e,Te(me,e),window.clearTimeout(de),de=window.setTimeout(()=>ge("Your session has expired: sign in again."),Math.max(0,e.expiresAt-Date.now()))}function ge(e){q=null,Ee(me),window.clearTimeout(de),pe.close(),ne(e)}function ne(e=null){if(ue(),ue=()=>{},!q){k(ze),k(K,Pe(e));return}let n=t("button",{type:"button",class:"secondary small"},"Sign out");n.addEventListener("click",()=>ge("You are signed out.")),k(ze,n);let o=window.location.hash.replace(/^#/,"")||"/",r=/^\/websites\/([^/]+)(?:\/(knowledge))?$/.exec(o);r?.[1]?ue=qe(Be,decodeURIComponent(r[1]),r[2]==="knowledge"?"knowledge":"settings",K):k(K,Qe(Be)),K.focus()}async function Ge(e){if(e.kind==="session"&&ce(e.session),e.kind==="code"){k(K,t("p",{class:"muted","aria-busy":"true"},"Signing in…"));try{let{redeemConsoleCode:n}=await pe.request(Re,{code:e.code});ce({accessToken:n.accessToken,expiresAt:Date.parse(n.expiresAt)})}catch(n){ne(n instanceof N?n.message:R(n));return}}else e.kind==="none"&&q&&ce(q);ne(e.kind==="error"?e.message:null)}window.addEventListener("hashchange",()=>{let e=ae(window.location,window.history);e.kind==="none"?ne():Ge(e)});Ge(st);

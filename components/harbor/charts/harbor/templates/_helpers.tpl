{{- define "harbor.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
{{- end }}

{{- define "harbor.core.labels" -}}
{{ include "harbor.labels" . }}
app.kubernetes.io/component: core
{{- end }}

{{/* An image of the platform registry: required, so a cluster without one fails to render. */}}
{{- define "harbor.image" -}}
{{- $registry := required "global.registry must be set: the registry every image comes from" .root.Values.global.registry -}}
{{ $registry }}/{{ .image.name }}:{{ .image.tag }}
{{- end }}

{{- define "harbor.externalHostname" -}}
{{ required "externalHostname must be set: the public host name of Harbor" .Values.externalHostname }}
{{- end }}
